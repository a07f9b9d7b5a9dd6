"""Test helper (not part of the package): train a tiny model on synthetic data into OUT_DIR.

Run directly (one process) or under torchrun (DDP with gloo). Each rank also saves its final weights to
OUT_DIR/rank<r>.safetensors so a test can compare the ranks. Usage: train_worker.py OUT_DIR [EPOCHS] [CKPT_EVERY] [SLOW]
"""
import os, sys, time
from pathlib import Path
import torch
from robint.core import save_checkpoint
from robint.data import toy_split
from robint.models import create_model
import robint.train as rt

out = Path(sys.argv[1]); epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
ckpt_every = int(sys.argv[3]) if len(sys.argv) > 3 else 0; slow = float(sys.argv[4]) if len(sys.argv) > 4 else 0.
torch.set_num_threads(1)
data = toy_split(256, seed=0)
torch.manual_seed(int(os.environ.get('RANK', '0')))   # ranks start from different inits: DDP must broadcast rank 0's
model = create_model('small_resnet', num_classes=2, in_channels=1, depth=8, width=4)
cfg = rt.TrainConfig(epochs=epochs, batch_size=32, lr=0.05, attack='pgd', eps=0.5, attack_iters=2, ckpt_every=ckpt_every)
if slow:   # stretch each step so a test can kill the process mid-run
    _pgd = rt.pgd
    rt.pgd = lambda *a, **k: (time.sleep(slow), _pgd(*a, **k))[1]
res = rt.train(model, data, cfg, out, progress=False)
save_checkpoint(out/f"rank{res['rank']}", model.state_dict(), {'steps': res['steps'], 'log': res['log']})
