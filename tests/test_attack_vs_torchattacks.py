"robint's PGD-20 L2 against torchattacks.PGDL2 with the same settings, on a Fashion-MNIST model trained here."
import pytest
import torch
from robint.data import load_fashion_mnist, channel_stats
from robint.models import create_model
from robint.train import TrainConfig, train
from robint.attacks import pgd, L2Step, predict, evaluate_robustness as robint_eval

torchattacks = pytest.importorskip('torchattacks')

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

def test_pgd20_l2_agrees_with_torchattacks(fashion_model):
    m, x, y = fashion_model
    eps, alpha, steps = 0.3, 0.3 * 2.5 / 20, 20
    clean = (predict(m, x) == y).float().mean().item()
    ours = torch.cat([pgd(m, x[i:i+250], y[i:i+250], L2Step(eps, alpha), iters=steps) for i in range(0, 1000, 250)])
    atk = torchattacks.PGDL2(m, eps=eps, alpha=alpha, steps=steps, random_start=False)
    peer = torch.cat([atk(x[i:i+250], y[i:i+250]) for i in range(0, 1000, 250)])
    acc_ours = (predict(m, ours) == y).float().mean().item(); acc_peer = (predict(m, peer) == y).float().mean().item()
    print(f"\nclean {clean:.3f}  PGD-20 L2 eps={eps}: robint {acc_ours:.3f}  torchattacks {acc_peer:.3f}")
    assert clean > 0.7, clean                        # a trained model, not a random one
    assert 0.05 < acc_peer < clean - 0.1, acc_peer   # an eps where the attack matters but does not win everywhere
    assert abs(acc_ours - acc_peer) <= 0.01          # within 1 point on 1,000 test images
    assert acc_ours <= acc_peer + 1e-9               # keeping each example's best iterate can only be stronger
    assert ((ours - x).flatten(1).norm(dim=1) <= eps + 1e-5).all()

def test_strong_evaluation_sanity_with_autoattack(fashion_model):
    m, x, y = fashion_model
    ev = robint_eval(m, x[:50], y[:50], 'L2', eps=[0.15, 0.3], iters=20, restarts=1, autoattack=True, progress=False)
    rows = {r['eps']: r for r in ev['rows']}
    print(f"\nclean {ev['clean']:.2f}; " + '; '.join(f"eps={e:g}: PGD {r['pgd']:.2f} AA {r['autoattack']:.2f}" for e, r in rows.items()))
    assert ev['checks'] == {'eps0_equals_clean': True, 'pgd_non_increasing': True, 'autoattack_le_pgd': True,
                            'autoattack_non_increasing': True}, ev['checks']
    assert rows[0.0]['autoattack'] == ev['clean'] and rows[0.3]['autoattack'] < ev['clean']   # AutoAttack really attacked
