"Reliability and security: checkpoints are never unpickled and survive failed writes; bad input is refused before compute."
import json, math, os, pickle
import numpy as np
from pathlib import Path
from unittest import mock
import pytest
import torch
from torch import nn
from robint.core import save_checkpoint, load_checkpoint
from robint.models import create_model, save_model, load_model

# ---------------------------------------------------------------- checkpoints

class _Marker:
    "Unpickling this object creates a marker file (what a malicious checkpoint would do)"
    def __init__(self, path): self.path = path
    def __reduce__(self): return (Path.touch, (Path(self.path),))

@pytest.mark.parametrize('name', ['model.safetensors', 'model.pt', 'model.pkl'])
def test_pickled_checkpoint_is_refused_without_unpickling(tmp_path, name):
    marker = tmp_path/'marker'
    p = tmp_path/name
    p.write_bytes(pickle.dumps({'weights': _Marker(marker)}, protocol=4))
    assert not marker.exists()
    for load in (load_checkpoint, load_model):
        with pytest.raises(ValueError, match='never unpickles') as e:
            load(p)
        assert str(p) in str(e.value)
    assert not marker.exists(), "the pickle was executed"
    pickle.loads(p.read_bytes()); assert marker.exists()      # the file really was a live payload

def test_torch_save_archive_is_refused(tmp_path):
    marker = tmp_path/'marker'
    p = tmp_path/'ckpt.safetensors'
    torch.save({'w': torch.zeros(2), 'evil': _Marker(marker)}, p)    # a zip archive with a pickle inside
    with pytest.raises(ValueError, match='looks like a pickle or torch.save archive'):
        load_checkpoint(p)
    assert not marker.exists()

@pytest.fixture
def good(tmp_path):
    m = create_model('small_resnet', num_classes=10, in_channels=1, depth=8, width=4)
    return m, save_model(tmp_path/'good', m, {'epoch': 3})

@pytest.mark.parametrize('damage', ['truncate_half', 'truncate_header', 'flip_header', 'empty'])
def test_corrupted_checkpoint_names_the_file_and_the_good_one_survives(tmp_path, good, damage):
    m, path = good
    blob = path.read_bytes()
    bad = tmp_path/'bad.safetensors'
    bad.write_bytes({'truncate_half': blob[:len(blob) // 2], 'truncate_header': blob[:5], 'empty': b'',
                     'flip_header': blob[:8] + b'[' + blob[9:]}[damage])
    with pytest.raises(ValueError) as e:
        load_model(bad)
    msg = str(e.value)
    assert str(bad) in msg and any(w in msg for w in ('truncated', 'corrupted', 'not a valid safetensors')), msg
    m2, meta = load_model(path)                                              # the good checkpoint is untouched
    assert meta['epoch'] == 3 and all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), m2.state_dict().values()))

@pytest.mark.parametrize('fail_at', ['write', 'fsync', 'replace'])
def test_failed_write_leaves_the_previous_checkpoint_intact(tmp_path, good, fail_at):
    m, path = good
    before = path.read_bytes(); js_before = path.with_suffix('.json').read_text()
    m_new = create_model('small_resnet', num_classes=10, in_channels=1, depth=8, width=4)
    class Boom(OSError): pass
    real_fdopen = os.fdopen
    class HalfFile:                                 # half the bytes reach the disk, then the write fails
        def __init__(self, *a, **k): self.f = real_fdopen(*a, **k)
        def __enter__(self): return self
        def __exit__(self, *a): self.f.close()
        def write(self, data): self.f.write(data[:len(data) // 2]); self.f.flush(); raise Boom('disk full (simulated)')
    target = {'fsync': 'os.fsync', 'replace': 'os.replace'}.get(fail_at)
    ctx = mock.patch(target, side_effect=Boom('simulated failure')) if target else mock.patch('os.fdopen', HalfFile)
    with ctx, pytest.raises(Boom):
        save_model(path, m_new, {'epoch': 4})
    assert path.read_bytes() == before and path.with_suffix('.json').read_text() == js_before
    assert load_model(path)[1]['epoch'] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ['good.json', 'good.safetensors']   # no temp files left behind

def test_interrupted_training_keeps_the_last_good_checkpoint(tmp_path):
    "A crash while writing the periodic checkpoint: the previous one still resumes the run"
    from robint.train import TrainConfig, train
    from robint.data import toy_split
    import robint.core as core
    cfg = TrainConfig(epochs=2, batch_size=32, lr=0.05, ckpt_every=2)
    mk = lambda: create_model('small_resnet', num_classes=2, in_channels=1, depth=8, width=4)
    torch.manual_seed(0); train(mk(), toy_split(128), cfg, tmp_path/'run', max_steps=2, progress=False)
    step_before = load_checkpoint(tmp_path/'run'/'last.safetensors')[1]['step']
    real = core._atomic_write_bytes
    def crash(path, data):
        if path.suffix == '.safetensors': raise OSError('disk full (simulated)')
        return real(path, data)
    with mock.patch('robint.core._atomic_write_bytes', crash), pytest.raises(OSError):
        train(mk(), toy_split(128), cfg, tmp_path/'run', progress=False)
    assert load_checkpoint(tmp_path/'run'/'last.safetensors')[1]['step'] == step_before == 2
    r = train(mk(), toy_split(128), cfg, tmp_path/'run', progress=False)   # and the run completes from there
    assert r['finished'] and r['steps'] == 8

# ---------------------------------------------------------------- bad input, refused before any compute

class Spy:
    "Counts layer calls of a model: a bad input must be refused before the first one"
    def __init__(self, model):
        self.n = 0
        for mod in model.modules():
            if isinstance(mod, (nn.Conv2d, nn.Linear)): mod.register_forward_pre_hook(self._hit)
    def _hit(self, *a): self.n += 1

@pytest.fixture(scope='module')
def kit():
    torch.manual_seed(0)
    m = create_model('small_resnet', num_classes=10, in_channels=1, depth=8, width=4).eval()
    x, y = torch.rand(4, 1, 28, 28), torch.tensor([0, 1, 2, 3])
    return m, x, y

def _cases(m, x, y, tmp):
    "(description, call, exception type, text the message must contain)"
    from robint.attacks import pgd, L2Step, LinfStep, make_step, predict, evaluate_robustness, pgd_correct
    from robint.attribution import integrated_gradients, expected_gradients, auto_saliency, mass_in_mask
    from robint.train import TrainConfig, train, sip_masks
    from robint.data import Split, load_dataset, load_fashion_mnist, load_cifar10
    from robint.pipeline import load_profile, paper_data
    from robint.metrics import frechet_distance
    nan_x = x.clone(); nan_x[0, 0, 0, 0] = float('nan')
    empty = Split(torch.zeros(0, 1, 28, 28, dtype=torch.uint8), torch.zeros(0, dtype=torch.long))
    L2 = L2Step(0.5, 0.1)
    return [
        ('negative eps', lambda: pgd(m, x, y, L2Step(-0.5, 0.1)), ValueError, 'eps must be >= 0'),
        ('Linf eps above 1', lambda: pgd(m, x, y, LinfStep(2.0, 0.1)), ValueError, 'eps must be <= 1 for Linf'),
        ('L2 eps beyond the image diameter', lambda: pgd(m, x, y, L2Step(100., 1.)), ValueError, 'eps must be <= 28'),
        ('negative eps in an evaluation sweep', lambda: evaluate_robustness(m, x, y, eps=[0.5, -1]), ValueError, 'eps must be >= 0'),
        ('images without a batch axis', lambda: pgd(m, x[0], y, L2), ValueError, 'x must have shape (N,C,H,W)'),
        ('wrong channel count', lambda: predict(m, x.repeat(1, 3, 1, 1)), ValueError, 'images must have shape (N,1,H,W)'),
        ('NaN in images', lambda: pgd(m, nan_x, y, L2), ValueError, 'x contains NaN'),
        ('images outside [0,1]', lambda: integrated_gradients(m, x * 255, y), ValueError, 'must lie in [0,1]'),
        ('uint8 images', lambda: pgd(m, (x * 255).byte(), y, L2), ValueError, 'must be float in [0,1]'),
        ('labels out of range', lambda: pgd(m, x, y + 7, L2), ValueError, 'y must lie in [0, 10)'),
        ('labels of the wrong length', lambda: pgd_correct(m, x, y[:3], 'L2', 0.5), ValueError, 'y must have shape (4,)'),
        ('unknown dataset', lambda: load_dataset('mnist'), ValueError, "unknown dataset 'mnist'"),
        ('unknown model', lambda: create_model('vgg16'), ValueError, "unknown model 'vgg16'"),
        ('unknown profile', lambda: load_profile('gpu-fast'), ValueError, "gpu-fast"),
        ('unknown attack', lambda: TrainConfig(attack='cw'), ValueError, "unknown attack 'cw'"),
        ('unknown norm', lambda: make_step('L1', 0.5), ValueError, "unknown norm 'L1'"),
        ('missing Fashion-MNIST root', lambda: load_fashion_mnist(tmp/'nowhere'), FileNotFoundError, 'nowhere'),
        ('missing CIFAR-10 root', lambda: load_cifar10(tmp/'nowhere'), FileNotFoundError, 'nowhere'),
        ('empty training set', lambda: train(m, empty, TrainConfig(epochs=1), tmp/'t'), ValueError, 'train_split is empty'),
        ('batch size 0', lambda: TrainConfig(batch_size=0), ValueError, 'batch_size must be >= 1'),
        ('prediction batch size 0', lambda: predict(m, x, batch_size=0), ValueError, 'batch_size must be >= 1'),
        ('non-finite learning rate', lambda: TrainConfig(lr=float('nan')), ValueError, 'lr must be finite'),
        ('zero PGD steps', lambda: pgd(m, x, y, L2, iters=0), ValueError, 'iters must be >= 1'),
        ('too few IG steps', lambda: integrated_gradients(m, x, y, n_steps=1), ValueError, 'n_steps'),
        ('zero SHAP samples', lambda: expected_gradients(m, x, x, y, nsamples=0), ValueError, 'nsamples'),
        ('mask of the wrong shape', lambda: pgd(m, x, y, L2, mask=torch.ones(4, 1, 14, 14)), ValueError, 'mask must have shape'),
        ('metric mask of the wrong shape', lambda: mass_in_mask(x, torch.ones(4, 1, 14, 14)), ValueError, 'mask must have shape'),
        ('SIP threshold 0', lambda: sip_masks(torch.rand(4, 1, 28, 28), threshold=0), ValueError, 'threshold must be > 0'),
        ('saliency fraction 0', lambda: auto_saliency(m, x, y, q=0), ValueError, 'q must be'),
        ('held-out split larger than the data', lambda: paper_data('fashion_mnist', val_size=10**6), ValueError, 'val_size must be smaller'),
        ('unknown AMP mode', lambda: pgd(m, x, y, L2, amp='fp8'), ValueError, 'amp must be'),
        ('missing checkpoint', lambda: load_model(tmp/'none.safetensors'), FileNotFoundError, 'none.safetensors'),
        ('Frechet distance of mismatched features', lambda: frechet_distance(np.zeros(4), np.eye(4), np.zeros(5), np.eye(5)), ValueError, 'mu2'),
    ]

# The list is built once at collection (with stand-ins: the calls only run inside the test, with the kit's model and
# data), so every case becomes a test of its own: a new case runs without touching anything else, and none is skipped.
CASE_NAMES = [c[0] for c in _cases(None, torch.rand(4, 1, 28, 28), torch.zeros(4, dtype=torch.long), Path('.'))]

def test_the_bad_input_list_is_long_and_its_names_unique():
    print(f"\n{len(CASE_NAMES)} bad-input cases, each a test of test_bad_input_is_refused_before_compute")
    assert len(CASE_NAMES) >= 20 and len(set(CASE_NAMES)) == len(CASE_NAMES)

@pytest.mark.parametrize('what', CASE_NAMES, ids=[f'{i + 1}/{len(CASE_NAMES)} {n}' for i, n in enumerate(CASE_NAMES)])
def test_bad_input_is_refused_before_compute(kit, tmp_path, what):
    m, x, y = kit
    (_, call, exc, text), = [c for c in _cases(m, x, y, tmp_path) if c[0] == what]
    spy = Spy(m)
    with pytest.raises(exc) as e:
        call()
    assert text in str(e.value), f"{what}: {e.value}"
    assert spy.n == 0, f"{what}: the model ran {spy.n} layer(s) before the error"

# ---------------------------------------------------------------- attack evaluation sanity on a robust model

@pytest.fixture(scope='module')
def robust_fashion(tmp_path_factory, fashion_root):
    """fashion-cpu's robust architecture and attack (ResNet-8 w32, L2 PGD eps 1.0) trained here, in this test's own tmp
    folder, for one epoch on 20,000 images: the result never depends on what an earlier `make paper` left in runs/"""
    from robint.data import load_fashion_mnist, channel_stats
    from robint.train import TrainConfig, train
    from robint.core import bf16_fast
    d = load_fashion_mnist(fashion_root)
    mean, std = channel_stats(d.train.x); torch.manual_seed(0)
    m = create_model('small_resnet', num_classes=10, in_channels=1, mean=mean, std=std, depth=8, width=32, stem_stride=2)
    train(m, d.train.subset(slice(0, 20_000)), TrainConfig(epochs=1, batch_size=128, lr=0.1, nesterov=True, attack='pgd', eps=1.0,
          attack_iters=3, ckpt_every=0, amp=bf16_fast('cpu')), tmp_path_factory.mktemp('rob'), progress=False)   # emulated bf16: 5-10x slower
    g = torch.Generator().manual_seed(0); idx = torch.randperm(len(d.test), generator=g)[:200]
    return m.eval(), d.test.floats(idx), d.test.y[idx]

def test_robust_model_evaluation_sanity(robust_fashion):
    from robint.attacks import evaluate_robustness
    m, x, y = robust_fashion
    sweep = evaluate_robustness(m, x, y, 'L2', eps=[0.25, 0.5, 1.0, 1.5, 2.0], iters=20, progress=False)
    pg = [r['pgd'] for r in sweep['rows']]
    print('\nPGD-20 accuracy by eps:', {r['eps']: round(r['pgd'], 3) for r in sweep['rows']})
    assert sweep['rows'][0]['pgd'] == sweep['clean'] > 0.6                 # eps 0 is the clean accuracy of a trained model
    assert all(a >= b for a, b in zip(pg, pg[1:])) and pg[-1] < pg[0]      # non-increasing in eps, and the attack bites
    aa = evaluate_robustness(m, x[:32], y[:32], 'L2', eps=[1.0], iters=20, autoattack=True, autoattack_library='torchattacks',
                             progress=False)   # AutoAttack is the slow part: torchattacks' 10-iteration one here
    print('AutoAttack vs PGD:', {r['eps']: (round(r['autoattack'], 3), round(r['pgd'], 3)) for r in aa['rows']})
    assert all(aa['checks'].values()), aa['checks']                        # includes AutoAttack <= PGD at every eps
    assert aa['rows'][0]['autoattack'] == aa['clean']
