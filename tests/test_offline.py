"Everything of the interpretability stack runs with the network disabled: any socket use fails the test."
import socket
import pytest
import torch

class NetworkUsed(RuntimeError): pass

@pytest.fixture
def no_network(monkeypatch):
    "Make every way of opening a connection raise"
    def refuse(*a, **k): raise NetworkUsed(f"network access attempted: {a[:2]}")
    for name in ('connect', 'connect_ex'): monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, 'create_connection', refuse)
    monkeypatch.setattr(socket, 'getaddrinfo', refuse)
    with pytest.raises(NetworkUsed): socket.create_connection(('pypi.org', 443))
    with pytest.raises(NetworkUsed): socket.socket().connect(('1.1.1.1', 53))

def test_attribution_features_and_metrics_offline(no_network, fashion_root):
    from robint.data import load_dataset
    from robint.models import create_model
    from robint.attribution import integrated_gradients, shap_gradient, expected_gradients, interpretability_metrics
    from robint.features import (representation, visualize_features, invert_representation, representation_distance,
                                 class_mvn, sample_class_seeds, generate_class)
    from robint.metrics import fid, kid, feature_distance
    data = load_dataset('fashion_mnist', fashion_root)
    x, y = data.test.floats(slice(0, 32)), data.test.y[:32]
    torch.manual_seed(0)
    m = create_model('small_resnet', num_classes=10, in_channels=1, depth=8, width=8, stem_stride=2)
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    xt, yt = data.train.floats(slice(0, 2048)), data.train.y[:2048]
    for i in range(0, 2048, 64):                         # one pass: a model that has learned something
        opt.zero_grad(); torch.nn.functional.cross_entropy(m(xt[i:i+64]), yt[i:i+64]).backward(); opt.step()
    m.eval()
    a, rel = integrated_gradients(m, x[:4], n_steps=50, return_delta=True, relative=True)
    assert a.shape == x[:4].shape and torch.isfinite(a).all() and (rel < 0.2).all()
    s = shap_gradient(m, x[:4], xt[:50], nsamples=50)
    e = expected_gradients(m, x[:4], xt[:50], nsamples=50)
    assert s.shape == e.shape == x[:4].shape
    met = interpretability_metrics(m, x[:4], a, mask=data.test.mask[:4], steps=4)
    assert all(torch.isfinite(v).all() for v in met.values())
    vis = visualize_features(m, torch.rand(2, 1, 28, 28), 3, iters=10, step_size=0.5)
    assert (representation(m, vis)[:, 3] >= representation(m, torch.rand(2, 1, 28, 28))[:, 3].min()).all()
    inv = invert_representation(m, torch.rand(2, 1, 28, 28), x[:2], iters=20, step_size=0.5)
    assert representation_distance(m, inv, x[:2]).shape == (2,)
    mvn = class_mvn(x, y, 10)
    gen = generate_class(m, sample_class_seeds(mvn, y[:4], (28, 28)), y[:4], iters=5, eps=15, step_size=0.5)
    assert gen.shape == (4, 1, 28, 28)
    f_same, f_noise = fid(x[:16], x[16:32]), fid(x[:16], torch.rand(16, 1, 28, 28))
    assert f_same['backbone'] == 'efficientnet-lite0' and 0 <= f_same['fid'] < f_noise['fid']
    assert kid(x[:16], x[16:32])['backbone'] == 'efficientnet-lite0'
    assert feature_distance(x[:4], inv.repeat(2, 1, 1, 1))['distance'].shape == (4,)
