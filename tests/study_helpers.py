"Small studies for the robint-study tests: random images, perturbations by noise (no model, no torch)."
import socket
from pathlib import Path
import numpy as np
from robint.study import build_study

def make_study(folder:Path, mode:str='2afc', n:int=6, reps:int=4, size:int=28, channels:int=1, paint:int=3)->dict:
    "A study of `n` random images, 3 conditions (12 trials at reps=4) and `paint` images to paint"
    rng = np.random.default_rng(0)
    clean = rng.integers(30, 220, (n, channels, size, size), dtype=np.uint8)
    pert = {}
    for (norm, eps, amp) in (('L2', 0.5, 6), ('L2', 1.0, 12), ('Linf', 8 / 255, 8)):
        pert[('std', norm, eps)] = np.clip(clean.astype(int) + rng.integers(-amp, amp + 1, clean.shape), 0, 255).astype(np.uint8)
    train = rng.integers(0, 256, (paint, channels, size, size), dtype=np.uint8)
    return build_study(folder, clean, pert, name='test-study', mode=mode, reps=reps, seed=1, paint=train,
                       paint_index=list(range(100, 100 + paint)), dataset='random test images')

def files(folder:Path)->dict:
    "{relative path: bytes} of every file under `folder`"
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob('*')) if p.is_file()}

def free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]
