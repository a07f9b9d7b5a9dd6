"The opt-in fast paths of training (bf16 autocast, channels_last, torch.compile, FGSM with random start) on the CPU."
import pytest, torch
from robint.core import cpu_flags
from robint.data import toy_split
from robint.models import create_model
from robint.train import TrainConfig, train
from robint.attacks import accuracy, pgd_correct

def _fit(tmp_path, name, **kw):
    torch.manual_seed(0)
    m = create_model('small_resnet', num_classes=2, in_channels=1, depth=8, width=4)
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.05, ckpt_every=0, eps=0.5, **kw)
    res = train(m, toy_split(256, 0), cfg, tmp_path/name, progress=False)
    return m, res

def test_fast_paths_learn_like_fp32(tmp_path):
    te = toy_split(256, 1); x, y = te.floats(), te.y
    base, rb = _fit(tmp_path, 'fp32', attack='pgd', attack_iters=3)
    fast, rf = _fit(tmp_path, 'fast', attack='fgsm_rs', amp=True, channels_last=True)
    for m, r in ((base, rb), (fast, rf)):
        assert r['log'][-1]['train_loss'] < r['log'][0]['train_loss']
        assert accuracy(m, x, y) > 0.95                         # the toy task is learnt
        assert pgd_correct(m, x, y, 'L2', 0.5, iters=10).float().mean() > 0.6   # and with robustness at the training eps
    conv = fast.body.layer1[0].conv1.weight   # (4,4,3,3): the two layouts differ
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()   # really channels_last

@pytest.mark.xfail(not ({'avx512f', 'amx_bf16'} & cpu_flags()), run=False,   # not run there: 54 s of make test's 20 min for a known failure
                   reason="measured 2026-12-01 on an AVX2-only AMD EPYC: after 24 SGD steps the compiled run's weights differ from "
                          "eager ones by more than atol 2e-3 / rtol 1e-2 (also at robint a78f822, before the fast-recipe changes)")
def test_torch_compile_matches_eager(tmp_path):
    eager, _ = _fit(tmp_path, 'eager', attack='pgd', attack_iters=2)
    comp, rc = _fit(tmp_path, 'compiled', attack='pgd', attack_iters=2, compile=True)
    assert rc['finished'] and rc['steps'] == 24
    # same data, init and schedule: compiled kernels differ from eager ones only in rounding
    for (k, a), b in zip(eager.state_dict().items(), comp.state_dict().values()):
        if a.is_floating_point(): assert torch.allclose(a, b, atol=2e-3, rtol=1e-2), k
