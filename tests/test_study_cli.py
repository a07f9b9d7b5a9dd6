"The robint-study console script end to end: build (against models of a run folder), simulate, analyse."
import json, subprocess, sys
import torch
from conftest import REPO
from robint.models import create_model, save_model
from robint.study import load_study, AnswerLog, SIMULATED, trial_plan

def _cli(*args, cwd=REPO):
    cmd = [sys.executable, '-c', 'import sys; from robint.study import robint_study; sys.exit(robint_study())', *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)

def test_build_simulate_analyse(tmp_path, fashion_root):
    torch.manual_seed(0)
    for name in ('standard', 'robust'):   # untrained models are enough to make stimuli
        save_model(tmp_path/'run'/'models'/name, create_model('small_resnet', num_classes=10, in_channels=1, depth=8, width=8, stem_stride=2))
    d = tmp_path/'study'
    r = _cli('build', '--study', str(d), '--profile', 'smoke', '--run-dir', str(tmp_path/'run'), '--eps-l2', '0.25,1', '--eps-linf', '0.0157',
             '--images', '4', '--reps', '2', '--iters', '3', '--paint', '3', '--scale', '6', '--mode', 'yesno')
    assert r.returncode == 0, r.stderr
    s = load_study(d)
    assert (s['mode'], s['scale'], s['reps'], s['height'], len(s['images']), len(s['paint'])) == ('yesno', 6, 2, 28, 4, 3)
    assert sorted(c['id'] for c in s['conditions']) == sorted(f'{m}-{n}' for m in ('standard', 'robust') for n in ('L2-0.25', 'L2-1', 'Linf-0.0157'))
    assert len(list((d/'stimuli').glob('*.png'))) == 4 + 6 * 4 and 'serve it with: robint-study serve' in r.stdout
    assert len(trial_plan(s, 'x')) == 12
    r = _cli('simulate', '--study', str(d), '--participants', '3')
    assert r.returncode == 0, r.stderr
    recs = AnswerLog(d/'simulated'/'answers.jsonl').read()
    assert len(recs) == 36 and {x['source'] for x in recs} == {SIMULATED}
    r = _cli('analyse', '--study', str(d), '--simulated', '--boot', '20')
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f'data: {SIMULATED}') and 'eps50' in r.stdout and '20 resamples of trials within each eps' in r.stdout
    r = _cli('analyse', '--study', str(d))                       # no human answers yet: a clear error, exit 2
    assert r.returncode == 2 and 'no participant has answered yet' in r.stderr
    r = _cli('build', '--study', str(d), '--profile', 'smoke', '--run-dir', str(tmp_path/'nothing'))
    assert r.returncode == 2 and 'run 01_train of this profile first' in r.stderr
