"robint's PGD-20, L2 and Linf, against torchattacks' PGDL2 and PGD with the same settings, and the reference AutoAttack against PGD, on a Fashion-MNIST model trained here."
import pytest
import torch
from robint.data import load_fashion_mnist, channel_stats
from robint.models import create_model
from robint.train import TrainConfig, train
from robint.attacks import pgd, L2Step, LinfStep, predict, evaluate_robustness as robint_eval

try: import torchattacks          # `make install` installs it (--no-deps: its requests pin clashes with jupyterlab)
except ImportError: pytest.fail("torchattacks is not installed: run `make install` (or pip install --no-deps torchattacks==3.5.1)", pytrace=False)

@pytest.fixture(scope='module')
def fashion_model(tmp_path_factory, fashion_root):
    "A small standard model: 1 epoch on 20,000 Fashion-MNIST images (about 75% test accuracy)"
    d = load_fashion_mnist(fashion_root)
    mean, std = channel_stats(d.train.x)
    torch.manual_seed(0)
    m = create_model('small_resnet', num_classes=10, in_channels=1, mean=mean, std=std, depth=8, width=8, stem_stride=2)
    train(m, d.train.subset(slice(0, 20_000)), TrainConfig(epochs=1, batch_size=128, lr=0.05, ckpt_every=0),
          tmp_path_factory.mktemp('fm'), progress=False)
    return m.eval(), d.test.floats(slice(0, 1000)), d.test.y[:1000]

def _compare(m, x, y, ours_step, peer_attack, eps, norm):
    "Accuracy of the model under robint's PGD and under the peer attack, on the same images, in batches of 250"
    ours = torch.cat([pgd(m, x[i:i+250], y[i:i+250], ours_step, iters=20) for i in range(0, len(x), 250)])
    peer = torch.cat([peer_attack(x[i:i+250], y[i:i+250]) for i in range(0, len(x), 250)])
    acc = lambda a: (predict(m, a) == y).float().mean().item()
    d = (ours - x).flatten(1).norm(dim=1) if norm == 'L2' else (ours - x).flatten(1).abs().amax(1)
    assert (d <= eps + 1e-5).all() and ours.min() >= 0 and ours.max() <= 1
    return acc(ours), acc(peer)

@pytest.mark.parametrize('norm, eps', [('L2', 0.3), ('Linf', 0.02)])
def test_pgd20_agrees_with_torchattacks(fashion_model, norm, eps):
    m, x, y = fashion_model
    alpha, steps = eps * 2.5 / 20, 20
    clean = (predict(m, x) == y).float().mean().item()
    peer = (torchattacks.PGDL2 if norm == 'L2' else torchattacks.PGD)(m, eps=eps, alpha=alpha, steps=steps, random_start=False)
    acc_ours, acc_peer = _compare(m, x, y, (L2Step if norm == 'L2' else LinfStep)(eps, alpha), peer, eps, norm)
    print(f"\nclean {clean:.3f}  PGD-20 {norm} eps={eps}: robint {acc_ours:.3f}  torchattacks {acc_peer:.3f}")
    assert clean > 0.7, clean                        # a trained model, not a random one
    assert 0.05 < acc_peer < clean - 0.1, acc_peer   # an eps where the attack matters but does not win everywhere
    assert abs(acc_ours - acc_peer) <= 0.01          # within 1 point on 1,000 test images
    if norm == 'L2':   # keeping each example's highest-loss iterate was never weaker in L2; in Linf one image of 1,000 went the
        assert acc_ours <= acc_peer + 1e-9  # other way (the highest cross-entropy iterate need not be the misclassified one)

def test_strong_evaluation_sanity_with_autoattack(fashion_model):
    m, x, y = fashion_model
    ev = robint_eval(m, x[:50], y[:50], 'L2', eps=[0.15, 0.3], iters=20, restarts=1, autoattack=True, autoattack_library='torchattacks',
                     progress=False)
    rows = {r['eps']: r for r in ev['rows']}
    print(f"\nclean {ev['clean']:.2f}; " + '; '.join(f"eps={e:g}: PGD {r['pgd']:.2f} AA {r['autoattack']:.2f}" for e, r in rows.items()))
    assert ev['checks'] == {'eps0_equals_clean': True, 'pgd_non_increasing': True, 'autoattack_le_pgd': True,
                            'autoattack_non_increasing': True}, ev['checks']
    assert rows[0.0]['autoattack'] == ev['clean'] and rows[0.3]['autoattack'] < ev['clean']   # AutoAttack really attacked

@pytest.mark.parametrize('norm, eps', [('L2', 0.3), ('Linf', 0.02)])
def test_reference_autoattack_is_stronger_than_pgd_and_stays_in_the_ball(fashion_model, norm, eps):
    """The authors' AutoAttack on a trained model: never above PGD-20, below 1-step PGD (which APGD beats), every image
    it counts as broken within eps and in [0,1], the per-attack counts adding up, and no flag raised"""
    from robint.attacks import autoattack, pgd_correct
    m, x, y = fashion_model
    x, y = x[:100], y[:100]
    d = autoattack(m, x, y, norm, eps, batch_size=100)
    pgd20, pgd1 = (pgd_correct(m, x, y, norm, eps, iters=k) for k in (20, 1))
    clean = predict(m, x) == y
    print(f"\n{norm} eps={eps}: clean {int(clean.sum())}, PGD-1 {int(pgd1.sum())}, PGD-20 {int(pgd20.sum())}, AutoAttack {int(d['robust'].sum())}; "
          f"broken by {d['broken']}; {sum(d['seconds'].values()):.0f} s")
    assert int(d['robust'].sum()) <= int(pgd20.sum()) and int(d['robust'].sum()) < int(pgd1.sum()), d
    assert not (d['robust'] & ~clean).any()                                   # a misclassified image is never robust
    assert d['misclassified_clean'] + sum(d['broken'].values()) + int(d['robust'].sum()) == len(x)
    assert 0 < d['max_perturbation'] <= eps + 1e-5 and not any(d['rejected'].values()) and d['flags'] == [], d
