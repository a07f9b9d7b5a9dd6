"Real data on this machine: Fashion-MNIST from Debian's idx files and CIFAR-10 from the JPEG copy in ../shared/data."
import io, tarfile, time
from unittest import mock
import numpy as np
import pytest
import torch
from PIL import Image

import robint.data as rd

def test_fashion_mnist_loads_offline_balanced(fashion_root):
    d = rd.load_fashion_mnist(fashion_root)
    assert (len(d.train), len(d.test)) == (60_000, 10_000)
    assert d.train.x.shape[1:] == (1, 28, 28) and d.train.x.dtype == torch.uint8
    assert d.train.class_counts(10) == [6_000] * 10 and d.test.class_counts(10) == [1_000] * 10
    assert torch.equal(d.train.mask, d.train.x > 0)
    m, s = rd.channel_stats(d.train.x)
    assert abs(m[0] - 0.2860) < 1e-3 and abs(s[0] - 0.3530) < 1e-3   # the published Fashion-MNIST statistics

def test_cifar10_jpeg_copy(cifar10_jpeg, tmp_path):
    t0 = time.perf_counter(); d = rd.load_cifar10(cifar10_jpeg, cache_dir=tmp_path); first = time.perf_counter() - t0
    assert (len(d.train), len(d.test)) == (50_000, 10_000)
    assert d.train.x.shape[1:] == (3, 32, 32)
    assert d.train.class_counts(10) == [5_000] * 10 and d.test.class_counts(10) == [1_000] * 10
    assert d.label == 'CIFAR-10 (JPEG copy)'
    # labels follow CIFAR-10's class order: decode a few files straight from the archive and find them in the arrays
    want = {'train/airplane/0001.jpg': 0, 'train/truck/0007.jpg': 9, 'test/cat/0010.jpg': 3, 'test/horse/0999.jpg': 7}
    with tarfile.open(cifar10_jpeg) as t:
        for name, label in want.items():
            im = np.asarray(Image.open(io.BytesIO(t.extractfile(name).read())).convert('RGB')).transpose(2, 0, 1)
            split = d.train if name.startswith('train') else d.test
            hits = (split.x == torch.from_numpy(im.copy())).flatten(1).all(1).nonzero().flatten()
            assert len(hits) >= 1, name
            assert set(split.y[hits].tolist()) == {label}, name
    # the second load is served from the .npy cache: nothing is decoded again
    with mock.patch.object(rd, '_decode_cifar', side_effect=AssertionError('decoded again')):
        t0 = time.perf_counter(); d2 = rd.load_cifar10(cifar10_jpeg, cache_dir=tmp_path); second = time.perf_counter() - t0
    assert torch.equal(d2.train.x, d.train.x) and torch.equal(d2.test.y, d.test.y)
    print(f"\nCIFAR-10 JPEG copy: first load (decode + cache) {first:.1f} s, second load (cache) {second:.2f} s")
