"Training across processes: DDP with gloo under torchrun, and a run killed with SIGKILL then resumed."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import torch
from robint.core import load_checkpoint
from study_helpers import free_port

WORKER = Path(__file__).with_name('train_worker.py')
ENV = {**os.environ, 'OMP_NUM_THREADS': '1'}

def test_ddp_gloo_two_ranks(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', f'--master_port={free_port()}',
                        str(WORKER), str(tmp_path/'ddp'), '2'], env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    w0, m0 = load_checkpoint(tmp_path/'ddp'/'rank0.safetensors'); w1, m1 = load_checkpoint(tmp_path/'ddp'/'rank1.safetensors')
    for k in w0:
        if 'running_' in k:   # BatchNorm statistics: broadcast from rank 0 before each forward, then updated on each rank's shard
            assert torch.allclose(w0[k], w1[k], atol=0.05), k
        else: assert torch.equal(w0[k], w1[k]), k   # parameters identical on both ranks
    # each rank took half of every global batch of 32: 256 examples -> 8 steps per epoch, 16 in all
    assert m0['steps'] == m1['steps'] == 16
    assert (tmp_path/'ddp'/'last.safetensors').exists() and len((tmp_path/'ddp'/'log.csv').read_text().splitlines()) == 3
    log = m0['log']; assert log[-1]['train_loss'] < log[0]['train_loss']
    strip = lambda log: [{k: v for k, v in row.items() if k not in ('seconds', 'others_cores')} for row in log]   # timing fields
    assert strip(m0['log']) == strip(m1['log'])   # epoch metrics were summed over both ranks

def _last_step(d:Path)->int:
    try: return json.loads((d/'last.json').read_text())['step']
    except (FileNotFoundError, ValueError, KeyError): return -1

def test_sigkill_then_resume_matches_uninterrupted(tmp_path):
    ref = subprocess.run([sys.executable, str(WORKER), str(tmp_path/'ref'), '2', '2'], env=ENV, capture_output=True, text=True, timeout=600)
    assert ref.returncode == 0, ref.stderr[-3000:]
    p = subprocess.Popen([sys.executable, str(WORKER), str(tmp_path/'run'), '2', '2', '0.3'], env=ENV,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while _last_step(tmp_path/'run') < 4 and time.time() - t0 < 300 and p.poll() is None: time.sleep(0.05)
    p.send_signal(signal.SIGKILL); p.wait()
    killed_at = _last_step(tmp_path/'run')
    assert 4 <= killed_at < 16, killed_at          # killed mid-run, after at least two periodic checkpoints
    r = subprocess.run([sys.executable, str(WORKER), str(tmp_path/'run'), '2', '2'], env=ENV, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    a, ma = load_checkpoint(tmp_path/'ref'/'rank0.safetensors'); b, mb = load_checkpoint(tmp_path/'run'/'rank0.safetensors')
    for k in a: assert torch.equal(a[k], b[k]), k
    assert [{k: v for k, v in row.items() if k not in ('seconds', 'others_cores')} for row in ma['log']] == \
           [{k: v for k, v in row.items() if k not in ('seconds', 'others_cores')} for row in mb['log']]
