"SIP-AT from painted masks (robint-study's format): the training attack never touches the painted (salient) pixels."
import numpy as np
import pytest
import torch
import robint.train
from robint.data import load_dataset
from robint.models import create_model
from robint.train import TrainConfig, train, sip_split
from robint.study import save_mask, image_key, load_human_saliency

def test_sip_at_training_never_perturbs_painted_pixels(tmp_path, monkeypatch, fashion_root):
    split = load_dataset('fashion_mnist', fashion_root).train.subset(torch.arange(256))
    painted = np.zeros((256, 28, 28), bool)
    rng = np.random.default_rng(0)
    for i in range(0, 256, 2):                                   # every other image gets a painted mask (a random box)
        r, c = rng.integers(0, 18, 2); painted[i, r:r + 10, c:c + 10] = True
        save_mask(tmp_path/'masks', painted[i], image_key(split.x[i]), 'a-test', {'index': i})
    sal, has, info = load_human_saliency(tmp_path/'masks', split.x)
    assert has.tolist() == [i % 2 == 0 for i in range(256)] and info == dict(masks=128, annotators=1)
    sip = sip_split(split, sal)                                  # where the attack may perturb: not on painted pixels
    assert torch.equal(~sip.mask[:, 0], torch.from_numpy(painted))

    calls, real = [], robint.train.pgd
    def spy(model, x, y, step, mask=None, **kw):                 # what the training loop's attack returns, batch by batch
        out = real(model, x, y, step, mask=mask, **kw); calls.append((x.detach().clone(), out.detach().clone(), mask.clone())); return out
    monkeypatch.setattr(robint.train, 'pgd', spy)
    model = create_model('small_resnet', num_classes=10, in_channels=1, depth=8, width=8, stem_stride=2)
    cfg = TrainConfig(epochs=1, batch_size=64, lr=0.05, attack='pgd', norm='L2', eps=1.0, attack_iters=2, use_masks=True, ckpt_every=0)
    train(model, sip, cfg, tmp_path/'run', progress=False)
    assert len(calls) == 4                                       # 256 / 64 batches, all attacked with their masks
    protected = 0
    for x, xa, m in calls:
        d = (xa - x).abs()
        assert d[~m.expand_as(d)].max() == 0                     # painted pixels: exactly the clean image
        assert d[m.expand_as(d)].max() > 0.01                    # the rest is perturbed (the check is not vacuous)
        protected += int((~m).sum())
    assert protected == painted.sum()                            # every painted pixel of the epoch went through the attack
