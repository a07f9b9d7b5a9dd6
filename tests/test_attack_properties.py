"Properties of `robint.attacks.pgd`: the threat-model constraints hold for random inputs, batch independence, model-mode hygiene."
import math
from functools import lru_cache

import pytest
import torch
from hypothesis import example, given, settings, strategies as st
from torch import nn

from robint.attacks import L2Step, LinfStep, UnconstrainedStep, pgd
from robint.models import create_model

TOL = 1e-5  # slack on the eps bound (float32 rounding of x + delta and of the projection)
MASKS = (None, 'bool1', 'boolC', 'float1', 'floatC')  # kind of mask: dtype and channel dimension

@pytest.fixture(scope='module', autouse=True)
def one_thread():
    "Tiny models run fastest on one thread, and oversubscribed OpenMP threads are ~100x slower on a busy 2-core machine"
    n = torch.get_num_threads(); torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

@lru_cache(maxsize=None)
def tiny_model(c:int, dtype:torch.dtype=torch.float32)->nn.Module:
    "A ResNet-8 of width 2 for `c` channels, eval mode, same weights on every run"
    with torch.random.fork_rng():
        torch.manual_seed(c)
        return create_model('small_resnet', num_classes=10, in_channels=c, depth=8, width=2).to(dtype).eval()

def make_batch(seed:int, n:int, c:int, hw:int, dtype=torch.float32):
    "Images (n,c,hw,hw) in [0,1] with ~20% of pixels exactly 0 or 1 (to exercise the clamp), and labels (n,)"
    g = torch.Generator().manual_seed(seed)
    x, u = torch.rand(n, c, hw, hw, generator=g), torch.rand(n, c, hw, hw, generator=g)
    x[u < 0.1], x[u > 0.9] = 0., 1.
    return x.to(dtype), torch.randint(0, 10, (n,), generator=g)

def make_mask(kind, seed:int, density:float, n:int, c:int, hw:int):
    "None, or a random 0/1 mask (n,1|c,hw,hw), bool or float, with about `density` ones"
    if kind is None: return None
    g = torch.Generator().manual_seed(seed + 1)
    m = torch.rand(n, 1 if kind.endswith('1') else c, hw, hw, generator=g) < density
    return m if kind.startswith('bool') else m.float()

@st.composite
def attack_cases(draw, norm:str, eps=None):
    "A random pgd problem for `norm` ('L2' or 'Linf'): shapes, eps (0 and the largest allowed included, or drawn from `eps`), step, options, mask"
    n, c, hw = draw(st.integers(1, 6)), draw(st.sampled_from([1, 3])), draw(st.integers(4, 16))
    top = 1.0 if norm == 'Linf' else math.sqrt(c * hw * hw)
    if eps is not None: eps = draw(eps)
    else:
        kind = draw(st.sampled_from(['inside'] * 4 + ['zero', 'top']))   # eps = 0 and the largest eps in ~1/6 of cases each
        eps = 0.0 if kind == 'zero' else top if kind == 'top' else draw(st.floats(0, top, exclude_min=True))
    return dict(norm=norm, n=n, c=c, hw=hw, eps=eps,
                step_size=draw(st.one_of(st.floats(1e-4, 4.0), st.floats(0.05, 2.5).map(lambda r: r * max(eps, 1e-3)))),
                iters=draw(st.integers(1, 5)), random_start=draw(st.booleans()), reduction=draw(st.sampled_from(['sum', 'mean'])),
                best=draw(st.booleans()), targeted=draw(st.booleans()),
                mask=draw(st.sampled_from(MASKS)), density=draw(st.sampled_from([0.5, 0.3, 0.7, 0.9, 1.0, 0.0])),
                dtype=draw(st.sampled_from([torch.float32, torch.float32, torch.float64])),
                seed=draw(st.integers(0, 2**31 - 1)))

def per_example_norm(d:torch.Tensor, norm:str)->torch.Tensor:
    "L2 norm or max-abs (N,) of perturbations d (N,...), in float64"
    d = d.double().flatten(1)
    return d.norm(dim=1) if norm == 'L2' else d.abs().amax(1)

def run_case(case:dict, step):
    "Attack the case's batch with `step`; check the properties every threat model must satisfy; return (x, out, mask)"
    n, c, hw = case['n'], case['c'], case['hw']
    x, y = make_batch(case['seed'], n, c, hw, case['dtype'])
    mask, x0, model = make_mask(case['mask'], case['seed'], case['density'], n, c, hw), x.clone(), tiny_model(c, case['dtype'])
    out = pgd(model, x, y, step, iters=case['iters'], random_start=case['random_start'], reduction=case['reduction'],
              best=case['best'], targeted=case['targeted'], mask=mask, generator=torch.Generator().manual_seed(case['seed']))
    assert torch.equal(x, x0), "pgd modified its input in place"
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    assert not model.training
    if mask is not None:
        frozen = (mask == 0).expand_as(x)   # pixels the attack may not touch
        assert torch.equal(out[frozen], x[frozen]), f"masked pixels changed by up to {(out - x)[frozen].abs().max().item():g}"
    return x, out, mask

def check_threat_model(case:dict):
    "pgd with L2Step / LinfStep: within eps of x (per example), and x itself when eps == 0"
    step = (L2Step if case['norm'] == 'L2' else LinfStep)(case['eps'], case['step_size'])
    x, out, _ = run_case(case, step)
    dist = per_example_norm(out - x, case['norm'])
    assert (dist <= case['eps'] + TOL).all(), f"{case['norm']} distances {dist.tolist()} exceed eps={case['eps']}"
    if case['eps'] == 0: assert torch.equal(out, x)

@settings(max_examples=150, deadline=None, derandomize=True)
@given(attack_cases('L2'))
def test_pgd_l2_stays_in_the_threat_model(case): check_threat_model(case)

@settings(max_examples=150, deadline=None, derandomize=True)
@given(attack_cases('Linf'))
def test_pgd_linf_stays_in_the_threat_model(case): check_threat_model(case)

# a regression case: the random start has radius step_size (> eps here); it must be projected into the ball before
# best=True can return it (once it was not)
@example(dict(norm='L2', n=4, c=1, hw=8, eps=0.1, step_size=2.0, iters=1, random_start=True, reduction='sum', best=True,
              targeted=False, mask=None, density=1.0, dtype=torch.float32, seed=0))
@settings(max_examples=100, deadline=None, derandomize=True)
@given(attack_cases('L2', eps=st.floats(1e-3, 50.0)))
def test_unconstrained_step_with_finite_eps_stays_in_the_ball(case):
    x, out, _ = run_case(case, UnconstrainedStep(case['step_size'], eps=case['eps']))
    dist = per_example_norm(out - x, 'L2')
    assert (dist <= case['eps'] + TOL).all(), f"L2 distances {dist.tolist()} exceed eps={case['eps']}"


# --- batch independence ---------------------------------------------------------------------------

N_BIG, ITERS = 256, 12

class RecordingL2Step(L2Step):
    "An L2Step that keeps the raw gradient pgd hands to each step"
    def __init__(self, *a):
        super().__init__(*a); self.grads = []
    def step(self, delta, grad):
        self.grads.append(grad.detach().clone())
        return super().step(delta, grad)

@pytest.fixture(scope='module')
def big_batch():
    "A 1-channel ResNet-8 (eval) and 256 random 28x28 images with labels; the attack of the whole batch with reduction 'sum'"
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = create_model('small_resnet', num_classes=10, in_channels=1, depth=8, width=8).eval()
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(N_BIG, 1, 28, 28, generator=g), torch.randint(0, 10, (N_BIG,), generator=g)
    step = RecordingL2Step(0.5, 0.1)
    return model, x, y, pgd(model, x, y, step, iters=ITERS, reduction='sum'), step.grads

def test_pgd_sum_is_batch_independent(big_batch):
    model, x, y, adv, _ = big_batch
    assert (adv - x).flatten(1).norm(dim=1).max() > 0.4          # the attack moved: the comparison is not trivially 0 == 0
    for i in torch.randperm(N_BIG, generator=torch.Generator().manual_seed(2))[:12].tolist():
        alone = pgd(model, x[i:i+1], y[i:i+1], L2Step(0.5, 0.1), iters=ITERS, reduction='sum')
        diff = (alone - adv[i:i+1]).abs().max().item()
        assert diff <= 1e-5, f"image {i}: alone vs in a batch of {N_BIG} differ by {diff:g}"

def test_pgd_mean_scales_gradients_but_normalised_l2_steps_match(big_batch):
    "reduction='mean' hands the step gradients N times smaller; the per-example normalised L2 step cancels that"
    model, x, y, adv_sum, grads_sum = big_batch
    step = RecordingL2Step(0.5, 0.1)
    adv_mean = pgd(model, x, y, step, iters=ITERS, reduction='mean')
    assert len(step.grads) == len(grads_sum) == ITERS
    g_sum, g_mean = grads_sum[0], step.grads[0]               # first iteration: both start at delta = 0
    ratio = g_sum.flatten(1).norm(dim=1) / g_mean.flatten(1).norm(dim=1)
    assert torch.allclose(ratio, torch.full_like(ratio, float(N_BIG)), rtol=1e-4), f"grad ratios {ratio.min():g}..{ratio.max():g}"
    assert torch.allclose(g_sum, N_BIG * g_mean, rtol=1e-4, atol=1e-9)
    diff = (adv_mean - adv_sum).abs().max().item()
    assert diff <= 1e-5, f"mean vs sum adversarial examples differ by {diff:g}"


# --- model mode -----------------------------------------------------------------------------------

def bn_buffers(model:nn.Module)->dict:
    return {k: v.clone() for k, v in model.state_dict().items() if 'running_' in k or 'num_batches_tracked' in k}

@pytest.mark.parametrize('training', [True, False])
@pytest.mark.parametrize('eval_mode', [True, False])
def test_pgd_restores_the_model_mode(training, eval_mode):
    model, seen = create_model('small_resnet', num_classes=10, in_channels=1, depth=8, width=2).train(training), []
    x, y = make_batch(0, 4, 1, 8)
    def loss(m, xa, ya):
        seen.append((m.training, all(b.training == m.training for b in m.modules())))
        return nn.functional.cross_entropy(m(xa), ya, reduction='none')
    pgd(model, x, y, L2Step(0.5, 0.1), iters=2, loss_fn=loss, eval_mode=eval_mode)
    assert model.training == training and all(m.training == training for m in model.modules())
    during = False if eval_mode else training
    assert seen == [(during, True)] * 3          # 2 steps + the final evaluation, all in the expected mode

def test_pgd_restores_the_mode_when_the_loss_fails():
    model = create_model('small_resnet', num_classes=10, in_channels=1, depth=8, width=2).train()
    x, y = make_batch(0, 2, 1, 8)
    def loss(m, xa, ya): raise RuntimeError('boom')
    with pytest.raises(RuntimeError, match='boom'): pgd(model, x, y, L2Step(0.5, 0.1), loss_fn=loss)
    assert model.training

def test_pgd_eval_mode_leaves_batchnorm_statistics_alone():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = create_model('small_resnet', num_classes=10, in_channels=3, depth=8, width=4).train()
    x, y = make_batch(3, 8, 3, 16)
    model(x)                                     # non-trivial running statistics to start from
    before = bn_buffers(model)
    adv = pgd(model, x, y, LinfStep(8/255, 2/255), iters=3, random_start=True, eval_mode=True, generator=torch.Generator().manual_seed(0))
    assert model.training
    after = bn_buffers(model)
    assert before.keys() == after.keys() and len(before) > 0
    for k in before: assert torch.equal(before[k], after[k]), f"{k} changed during pgd(eval_mode=True)"
    # and the attack is the one on the eval-mode model
    ref = pgd(model.eval(), x, y, LinfStep(8/255, 2/255), iters=3, random_start=True, generator=torch.Generator().manual_seed(0))
    assert torch.equal(adv, ref)
    # contrast: with eval_mode=False the train-mode forward passes do update them (the test above can fail)
    model.train(); pgd(model, x, y, LinfStep(8/255, 2/255), iters=3, eval_mode=False)
    assert not torch.equal(before['body.stem.1.running_mean'], bn_buffers(model)['body.stem.1.running_mean'])
