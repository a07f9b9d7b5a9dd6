"""The smoke profile end to end as a pip user runs it: the wheel built from this checkout, installed into a fresh venv,
`robint-paper --profile smoke --out DIR` run outside any checkout; every figure and table regenerated, cached on rerun,
progress on stderr."""
import json, math, os, re, shutil, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import REPO

FIGURES = ['fig02_ig_shap_samples', 'fig03_generation_standard', 'fig03_generation_robust', 'fig04_inversion_other_class',
           'fig05_feature_vis_a', 'fig10_ig_grid', 'fig11_inversion_noise', 'fig12_feature_vis_b', 'fig13_shap_grid', 'fig02_ig_shap_samples_shared_scale', 'fig10_ig_grid_shared_scale', 'fig13_shap_grid_shared_scale',
           'fig14_generation_seeds', 'figA_training_curves', 'figB_accuracy_vs_eps', 'figE_randomisation_check',
           'figS1_sip_at_examples', 'figS2_sip_at_accuracy_vs_eps', 'figM1_minibatch_attack_strength',
           'figP1_prototypes', 'figP2_prototype_samples', 'figP3_prototype_nearest', 'figH1_perceptibility_simulated', 'figV_claims',
           'figR1_readout_inversions', 'figR2_readout_margins']
TABLES = ['table1_accuracy', 'table1b_pgd_losses', 'table2_fid', 'table3_inversion_distance', 'tableA_training', 'tableB_accuracy_vs_eps', 'tableD2_ig_completeness',
          'tableD_interpretability', 'tableE_randomisation', 'tableF_representation_distance', 'tableG_feature_vis',
          'tableS1_sip_at', 'tableM1_minibatch_attack_strength', 'tableM2_gradient_scale', 'tableP1_protoflow',
          'tableH1_perceptibility_simulated', 'tableH2_psychometric_simulated', 'tableG2_feature_vis_all_units', 'tableH_inversion_pixels',
          'tableV_claims_by_seed', 'tableR0_readout_premise', 'tableR1_readout_inversions', 'tableR2_readout_claims',
          'tableC_autoattack', 'tableC2_autoattack_vs_pgd', 'tableC3_autoattack_attacks']
TORCH = ['torch==2.14.1', 'torchvision==0.29.1']       # the releases on this machine's disk (pip takes them from there)
HEARTBEAT = 8                                        # seconds between heartbeat lines in the smoke run (default 60)
NOTEBOOKS = sorted(p.stem for p in (REPO/'nbs'/'paper').glob('[0-9]*.ipynb'))

def clean_env(**kv)->dict:
    "The environment without this checkout on PYTHONPATH: the venv's robint is the wheel's"
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV')}
    return {**env, **kv}

def run(cmd, timing:dict, name:str, **kw):
    t = time.perf_counter(); r = subprocess.run(cmd, capture_output=True, text=True, **kw); timing[name] = round(time.perf_counter() - t, 1)
    assert r.returncode == 0, f"{name} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r

def torch_stack()->list:
    "torch, torchvision and every CUDA / triton wheel installed beside them (about 5.5 GB unpacked), in this interpreter"
    from importlib import metadata
    names = lambda d: d.metadata['Name'].lower().replace('_', '-')
    return [d for d in metadata.distributions()
            if names(d) in ('torch', 'torchvision') or names(d).startswith(('nvidia-', 'cuda-', 'triton'))]

def link_torch_stack(venv:Path, into:Path)->int:
    """Make the torch stack of this interpreter importable in `venv` through a .pth file: symlinks to its packages and
    dist-info folders, so pip sees torch 2.14.1 installed and unpacks nothing of it. Returns how many distributions."""
    into.mkdir()
    dists = torch_stack()
    for d in dists:
        site = Path(d.locate_file(''))
        for top in {Path(str(f)).parts[0] for f in d.files or []} - {'..'}:
            if (site/top).exists() and not (into/top).exists(): (into/top).symlink_to(site/top)
    site_packages = next((venv/'lib').glob('python*/site-packages'))
    (site_packages/'robint_test_torch_stack.pth').write_text(str(into) + '\n')
    return len(dists)

@pytest.fixture(scope='module')
def wheel_venv(tmp_path_factory):
    """The wheel of this checkout in a fresh venv: (venv bin folder, a folder outside any checkout, timings).
    torch, torchvision and their CUDA wheels are linked from the test's own interpreter (the same files pip would unpack
    from this machine's disk, ~70 s); pip resolves and installs every other requirement of the wheel afresh."""
    tmp, timing = tmp_path_factory.mktemp('wheel'), {}
    run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '-q', '-w', str(tmp/'dist'), str(REPO)], timing, 'build wheel')
    whl = next((tmp/'dist').glob('robint-*.whl'))
    run([sys.executable, '-m', 'venv', str(tmp/'venv')], timing, 'create venv')
    timing['torch stack linked (distributions)'] = link_torch_stack(tmp/'venv', tmp/'torch-stack')
    pip = [str(tmp/'venv'/'bin'/'python'), '-m', 'pip', 'install', '-q', '--no-compile']   # byte code on first import instead
    run(pip + TORCH + [str(whl)], timing, 'pip install torch + wheel', env=clean_env())
    frozen = run([str(tmp/'venv'/'bin'/'python'), '-m', 'pip', 'list', '--format=freeze'], timing, 'pip list', env=clean_env()).stdout
    assert 'robint==' in frozen and 'torch==2.14.1' in frozen and 'fastcore==1.12' in frozen, frozen   # the wheel's own requirements, resolved
    assert 'pyautoattack==' in frozen, frozen                                      # the reference AutoAttack comes with the wheel
    chk = run([str(tmp/'venv'/'bin'/'python'), '-m', 'pip', 'check'], timing, 'pip check', env=clean_env())
    assert 'No broken requirements' in chk.stdout, chk.stdout                    # every requirement resolved without a conflict
    away = tmp/'away'; away.mkdir()
    assert not any((d/'settings.ini').exists() for d in (away, *away.parents))    # no checkout around it
    return tmp/'venv'/'bin', away, timing

@pytest.fixture(scope='module')
def smoke(wheel_venv):
    "robint-paper --profile smoke --out DIR with the installed wheel, stderr captured to a file: (DIR, stderr text, seconds)"
    bin_, away, timing = wheel_venv
    out = away/'results'
    with open(away/'stderr.txt', 'w') as err:
        t = time.perf_counter()
        r = subprocess.run([str(bin_/'robint-paper'), '--profile', 'smoke', '--out', str(out), '--heartbeat', str(HEARTBEAT)], cwd=away, stdout=subprocess.PIPE,
                           stderr=err, text=True, env=clean_env(PATH=f"{bin_}{os.pathsep}{os.environ['PATH']}"))
        secs = time.perf_counter() - t
    log = (away/'stderr.txt').read_text()
    assert r.returncode == 0, log[-5000:]
    print(f"wheel: {timing}; smoke sequence {secs:.0f} s")
    return out, log, secs

def test_console_scripts_of_the_wheel_work_outside_a_checkout(wheel_venv):
    bin_, away, _ = wheel_venv
    h = subprocess.run([str(bin_/'robint-paper'), '--help'], cwd=away, capture_output=True, text=True, env=clean_env())
    assert h.returncode == 0 and '--out' in h.stdout and '--models' in h.stdout and '--profile' in h.stdout and '--seeds' in h.stdout, h.stderr
    b = subprocess.run([str(bin_/'robint-bench'), '--list_rows'], cwd=away, capture_output=True, text=True, env=clean_env())
    assert b.returncode == 0 and 'pgd_l2_fp32' in b.stdout, b.stderr
    c = subprocess.run([str(bin_/'robint-convert'), '--help'], cwd=away, capture_output=True, text=True, env=clean_env())
    assert c.returncode == 0 and '--arch' in c.stdout, c.stderr
    # outside a checkout without --out: a clear refusal, nothing written
    r = subprocess.run([str(bin_/'robint-paper'), '--profile', 'smoke'], cwd=away, capture_output=True, text=True, env=clean_env())
    assert r.returncode == 2 and 'pass --out DIR' in r.stderr and not (away/'figures').exists()
    site = subprocess.run([str(bin_/'python'), '-c', 'import robint.pipeline as p; print(p.paper_dir())'], cwd=away,
                          capture_output=True, text=True, env=clean_env()).stdout.strip()
    assert 'site-packages' in site and Path(site, 'params', 'smoke.yaml').is_file(), site   # the notebooks are package data

def test_every_figure_and_table_exists(smoke):
    out, log, secs = smoke
    figs = out/'figures'/'smoke'
    missing = [f'{f}.png' for f in FIGURES if not (figs/f'{f}.png').exists() or (figs/f'{f}.png').stat().st_size <= 1000] + \
              [f'{t}.{e}' for t in TABLES for e in ('csv', 'md') if not (figs/f'{t}.{e}').exists()]
    assert not missing, missing
    assert all((out/'runs'/'smoke'/f'{nb}.html').exists() for nb in NOTEBOOKS)     # executed notebooks, readable without Jupyter

def test_results_hold_every_table_with_finite_numbers(smoke):
    out, _, _ = smoke
    from robint.pipeline import check_finite
    res = json.loads((out/'figures'/'smoke'/'results.json').read_text())
    assert set(TABLES) <= set(res), sorted(set(TABLES) - set(res))
    assert check_finite(res) == []
    for t in TABLES:
        nums = [v for row in res[t]['rows'] for v in row if isinstance(v, (int, float))]
        assert nums and all(math.isfinite(v) for v in nums), t
    assert set(res['wall_time_s']) == set(NOTEBOOKS)

def test_every_paper_figure_and_table_has_a_counterpart(smoke):
    out, _, _ = smoke
    res = json.loads((out/'figures'/'smoke'/'results.json').read_text())
    refs = ' '.join(str(e.get('paper') or '') for e in list(res['figures'].values()) + [res[t] for t in TABLES])
    assert {int(n) for n in re.findall(r'Figure (\d+)', refs)} >= set(range(2, 20))
    assert {int(n) for n in re.findall(r'Table (\d+)', refs)} >= set(range(1, 7))
    index = (out/'figures'/'smoke'/'README.md').read_text()
    assert all(f'({f}.png)' in index for f in FIGURES) and 'Deviations from the paper' in index
    assert '93.2' in index                                       # the paper's Table 1 beside ours

def test_stderr_has_a_start_and_an_end_line_for_every_notebook(smoke):
    out, log, _ = smoke
    for nb in NOTEBOOKS:
        assert re.search(rf'^{nb}: started \(\d+/{len(NOTEBOOKS)}\)', log, re.M), (nb, log[-3000:])
        assert re.search(rf'^{nb}: ran in \d+\.\d s$', log, re.M), (nb, log[-3000:])
    wall = json.loads((out/'figures'/'smoke'/'results.json').read_text())['wall_time_s']
    long = [nb for nb in NOTEBOOKS if wall[nb] > HEARTBEAT + 5]
    assert long, wall
    for nb in long:     # a heartbeat with the cell and the latest output for every notebook that ran long enough
        assert re.search(rf'^{nb}: running for 0 min \d\d s, cell \d+ \(.+\); latest output: ', log, re.M), (nb, log[-3000:])
    # the kernels talk over Unix-domain sockets (robint.pipeline.ipc_kernel_manager): no warning of plain-text TCP
    assert 'Kernel is running over TCP without encryption' not in log, log[-3000:]

def test_executed_notebooks_hold_text_progress_refreshed_rarely(smoke):
    "ipywidgets is installed in the venv, yet inside robint-paper tqdm writes text, at most every 30 s per bar"
    out, _, secs = smoke
    nb = json.loads((out/'runs'/'smoke'/'01_train.ipynb').read_text())
    outs = [o for c in nb['cells'] for o in c.get('outputs', [])]
    assert not any('application/vnd.jupyter.widget-view+json' in o.get('data', {}) for o in outs)
    stderr = ''.join(''.join(o['text']) for o in outs if o.get('name') == 'stderr')
    bars = re.findall(r'train (?:standard|adv)[^\r\n]*\|', stderr)
    assert bars, stderr[:2000]                                   # the training bars are there, as text
    wall = json.loads((out/'figures'/'smoke'/'results.json').read_text())['wall_time_s']['01_train']
    # every line tqdm.write prints (a log row, and a busy-machine warning when the other test worker keeps a core busy)
    rows = len(re.findall(r'^(?:epoch=|WARNING: other processes used)', stderr + ''.join(''.join(o['text']) for o in outs if o.get('name') == 'stdout'), re.M))
    # two bars, each drawn when it opens, twice when it closes, once per 30 s, and again under every line tqdm.write prints
    assert len(bars) <= 2 * (3 + wall / 30) + rows, (len(bars), rows, wall)
    assert (out/'runs'/'smoke'/'01_train.ipynb').stat().st_size < 1_000_000

def test_second_run_is_cached_and_a_busy_machine_is_named(smoke, wheel_venv):
    "All cached; a CPU-bound process beside it (a pure-Python loop, not torch) gets the busy-machine warning"
    out, _, _ = smoke
    bin_, away, _ = wheel_venv
    before = {p: p.stat().st_mtime_ns for p in (out/'figures'/'smoke').glob('*.png')}
    busy = subprocess.Popen([sys.executable, '-c', 'import time\nt = time.time()\nwhile time.time() - t < 60: pass'])
    try:
        time.sleep(0.5)
        t = time.perf_counter()
        r = subprocess.run([str(bin_/'robint-paper'), '--profile', 'smoke', '--out', str(out)], cwd=away, capture_output=True,
                           text=True, env=clean_env())
        secs = time.perf_counter() - t
    finally: busy.kill(); busy.wait()
    assert r.returncode == 0, r.stderr
    assert all(f'{nb}: skipped (cached)' in r.stderr for nb in NOTEBOOKS), r.stderr
    assert re.search(r'WARNING: other processes used \d\.\d of \d+ CPU cores during the second before the start', r.stderr), r.stderr
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert secs < 60, secs

def test_a_papermill_parameter_changes_the_result(smoke, tmp_path):
    "papermill -p eval_eps 0.0: Table 1's adversarial column becomes the clean accuracy"
    out, _, _ = smoke
    fig, runs = tmp_path/'fig', tmp_path/'runs'
    shutil.copytree(out/'runs'/'smoke'/'models', runs/'models')   # its own run folder: the smoke run's per-image results stay the smoke run's
    cmd = [sys.executable, '-m', 'papermill', '-k', 'python3', str(REPO/'nbs'/'paper'/'02_robustness.ipynb'), str(tmp_path/'02.ipynb'),
           '-p', 'out_dir', str(fig), '-p', 'run_dir', str(runs), '-p', 'eval_eps', '0.0', '-p', 'sweep_n', '50']
    subprocess.run(cmd, check=True, cwd=REPO/'nbs'/'paper', capture_output=True)
    ours = json.loads((fig/'results.json').read_text())['table1_accuracy']
    base = json.loads((out/'figures'/'smoke'/'results.json').read_text())['table1_accuracy']
    col = lambda t, name: [r[t['columns'].index(name)] for r in t['rows']]
    assert col(ours, 'L2 accuracy (eps=0)') == col(ours, 'clean accuracy')
    assert col(base, 'L2 accuracy (eps=1)') != col(base, 'clean accuracy')

def test_help_notebook_lists_parameters_with_help():
    r = subprocess.run([sys.executable, '-m', 'papermill', '--help-notebook', str(REPO/'nbs'/'paper'/'04_generation.ipynb')],
                       capture_output=True, text=True, check=True)
    assert 'gen_eps' in r.stdout and 'L2 radius of generation, pixel units' in r.stdout

def test_study_notebook_labels_simulated_data(smoke):
    "10_study on the smoke profile: simulated-observer tables with finite Wilson and bootstrap intervals, labelled as such"
    root, _, _ = smoke
    res = json.loads((root/'figures'/'smoke'/'results.json').read_text())
    for t in ('tableH1_perceptibility_simulated', 'tableH2_psychometric_simulated'):
        e = res[t]
        assert e['caption'].startswith('SIMULATED OBSERVER, NOT HUMAN DATA')
        assert all(r[e['columns'].index('data')] == 'simulated observer, not human data' for r in e['rows'])
    h1, h2 = res['tableH1_perceptibility_simulated'], res['tableH2_psychometric_simulated']
    col = lambda t, c: [r[t['columns'].index(c)] for r in t['rows']]
    assert all(lo <= rate <= hi for lo, rate, hi in zip(col(h1, 'lo'), col(h1, 'rate'), col(h1, 'hi')))
    assert sorted(set(col(h2, 'norm'))) == ['L2', 'Linf'] and sorted(set(col(h2, 'model'))) == ['robust', 'standard']
    for q in ('eps50', 'eps75'):
        assert all(0 < lo <= v <= hi < float('inf') for lo, v, hi in zip(col(h2, f'{q}_lo'), col(h2, q), col(h2, f'{q}_hi')))
    assert res['figures']['figH1_perceptibility_simulated']['caption'].startswith('SIMULATED OBSERVER, NOT HUMAN DATA')
    assert not (root/'figures'/'smoke'/'tableH1_perceptibility.csv').exists()        # no human data: no human table

def test_sip_at_trains_from_masks_painted_through_the_server(smoke, tmp_path):
    "07_sip_at, sip_saliency='human': masks painted through robint-study's server on 20 training images, auto saliency elsewhere"
    import base64
    import numpy as np
    from robint.pipeline import paper_data
    from robint.study import build_study, start_server, request, image_key
    root, _, _ = smoke
    _, tr, _, _ = paper_data('fashion_mnist', None, 300, 100, 300, 0)          # the split 07 uses with these parameters
    x = tr.x[:20].numpy()
    build_study(tmp_path/'study', x[:2], {('m', 'L2', 0.5): x[:2]}, reps=1, paint=x)
    n_keys = len({image_key(i) for i in x})
    srv = start_server(tmp_path/'study')
    try:
        aid = request(srv.url + 'api/register', 'POST', {'role': 'annotator'})[1]['id']
        m = np.zeros((28, 28), np.uint8); m[6:20, 8:22] = 1
        for _ in range(n_keys):
            nxt = request(srv.url + f'api/paint/next?annotator={aid}')[1]
            body = dict(annotator=aid, image=nxt['image'], height=28, width=28, mask=base64.b64encode(m.tobytes()).decode())
            assert request(srv.url + 'api/mask', 'POST', body)[0] == 200
        assert request(srv.url + f'api/paint/next?annotator={aid}')[1]['done']
    finally: srv.shutdown(); srv.server_close()
    run = tmp_path/'runs'; shutil.copytree(root/'runs'/'smoke'/'models', run/'models')
    out = tmp_path/'fig'
    cmd = [sys.executable, '-m', 'papermill', '-k', 'python3', str(REPO/'nbs'/'paper'/'07_sip_at.ipynb'), str(tmp_path/'07.ipynb'),
           '-p', 'out_dir', str(out), '-p', 'run_dir', str(run), '-p', 'sip_saliency', 'human', '-p', 'sip_mask_dir', str(tmp_path/'study'/'masks'),
           '-p', 'train_subset', '300', '-p', 'test_subset', '100', '-p', 'sweep_n', '50', '-p', 'eval_iters', '3', '-p', 'sip_steps', '2',
           '-y', 'sweep_eps: [1.0]']
    subprocess.run(cmd, check=True, cwd=REPO/'nbs'/'paper', capture_output=True)   # the checkout's notebook; the smoke run's models
    res = json.loads((out/'results.json').read_text())
    v = res['values']
    n_painted = sum(image_key(i) in {image_key(j) for j in x} for i in tr.x.numpy())   # duplicates of a painted image count too
    assert (v['sip_saliency_human_images'], v['sip_saliency_auto_images']) == (n_painted, 300 - n_painted)
    assert v['sip_human_max_perturbation_protected'] == 0 and v['sip_human_max_perturbation_elsewhere'] > 0
    assert 'painted human masks on' in res['figures']['figS1_sip_at_examples']['caption']
    rows = res['tableS1_sip_at']['rows']
    assert [r[0] for r in rows] == ['standard training', 'PGD-AT', 'SIP-AT'] and all(math.isfinite(x) for r in rows for x in r[1:])
    txt = (tmp_path/'07.ipynb').read_text()
    assert f'human saliency: {n_painted} of 300 training images have painted masks' in txt and f'the other {300 - n_painted} use the auto saliency' in txt

def test_sip_at_starts_where_the_robust_model_started(smoke, tmp_path):
    "07_sip_at with robust_init='standard' (a profile that fine-tunes its robust model): SIP-AT is fine-tuned from the standard model too"
    from robint.models import load_model, save_model
    from robint.train import TrainConfig
    root, _, _ = smoke
    run = tmp_path/'runs'; shutil.copytree(root/'runs'/'smoke'/'models', run/'models')
    # a robust model selected at another radius than it trained at (val_eps, as cifar10-cpu's): 07 reports SIP-AT's robust change there
    rob, meta = load_model(run/'models'/'robust.safetensors')
    assert meta['config']['eps'] == 1.0
    save_model(run/'models'/'robust.safetensors', rob, {**{k: x for k, x in meta.items() if k != 'model'}, 'config': {**meta['config'], 'val_eps': 0.5}})
    cmd = [sys.executable, '-m', 'papermill', '-k', 'python3', str(REPO/'nbs'/'paper'/'07_sip_at.ipynb'), str(tmp_path/'07.ipynb'),
           '-p', 'out_dir', str(tmp_path/'fig'), '-p', 'run_dir', str(run), '-p', 'robust_init', 'standard',
           '-p', 'train_subset', '300', '-p', 'test_subset', '100', '-p', 'sweep_n', '50', '-p', 'eval_iters', '3', '-p', 'sip_steps', '2',
           '-y', 'sweep_eps: [0.5, 1.0]']
    subprocess.run(cmd, check=True, cwd=REPO/'nbs'/'paper', capture_output=True)
    std_hash = TrainConfig(**load_model(run/'models'/'standard.safetensors')[1]['config']).hash()
    sip_runs = [d.name for d in (run/'train').iterdir() if d.name.startswith('sip-')]
    assert len(sip_runs) == 1 and sip_runs[0].endswith(f'-from-standard-{std_hash}'), sip_runs
    res = json.loads((tmp_path/'fig'/'results.json').read_text())
    v, t = res['values'], res['tableS1_sip_at']
    assert v['sip_at_robust_change_eps'] == 0.5 and math.isfinite(v['sip_at_robust_change'])
    (_, at_row, sip_row), c = t['rows'], t['columns'].index('eps=0.5')      # standard training, the robust model, SIP-AT
    assert sip_row[0] == 'SIP-AT' and v['sip_at_robust_change'] == pytest.approx(sip_row[c] - at_row[c])
    cap = res['figures']['figS2_sip_at_accuracy_vs_eps']['caption']
    assert 'dashed: the radius 0.5' in cap and 'on 50 test images (bars: 95% Wilson intervals' in cap, cap
    assert at_row[0] == 'PGD-AT (fine-tuned from the standard model)', at_row[0]          # the robust model's label says how it started
    bad = [sys.executable, '-m', 'papermill', '-k', 'python3', str(REPO/'nbs'/'paper'/'07_sip_at.ipynb'), str(tmp_path/'bad.ipynb'),
           '-p', 'out_dir', str(tmp_path/'fig2'), '-p', 'run_dir', str(run), '-p', 'robust_init', 'pretrained']
    r = subprocess.run(bad, cwd=REPO/'nbs'/'paper', capture_output=True, text=True)
    assert r.returncode != 0 and "unknown robust_init" in r.stderr + r.stdout, (r.stderr + r.stdout)[-2000:]

def test_train_notebook_fine_tunes_the_robust_model_when_asked(smoke, tmp_path):
    "01_train with robust_init='standard' (cifar10-cpu's setting) on the smoke settings: the robust run starts from the kept standard model, and figA says so"
    cmd = [sys.executable, '-m', 'papermill', '-k', 'python3', str(REPO/'nbs'/'paper'/'01_train.ipynb'), str(tmp_path/'01.ipynb'),
           '-p', 'out_dir', str(tmp_path/'fig'), '-p', 'run_dir', str(tmp_path/'runs'), '-p', 'robust_init', 'standard']
    r = subprocess.run(cmd, cwd=REPO/'nbs'/'paper', capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    runs = sorted(d.name for d in (tmp_path/'runs'/'train').iterdir())
    assert len(runs) == 2 and runs[0].startswith('robust-') and '-from-standard-' in runs[0] and runs[1].startswith('standard-'), runs
    assert runs[0].endswith(runs[1].removeprefix('standard-')), runs              # from this very standard run
    cap = json.loads((tmp_path/'fig'/'results.json').read_text())['figures']['figA_training_curves']['caption']
    assert "the robust model starts from the standard model's kept checkpoint" in cap, cap

def test_autoattack_notebook_pairs_the_reference_with_table1s_pgd(smoke, tmp_path):
    """02b in the smoke run (the wheel, which has no torchattacks): Table C's PGD column is Table 1's per-image result on
    the same images, the reference AutoAttack is never above it, the 2x2 table adds up image by image, and the attacks'
    counts add up to what they broke; then 02b again with this checkout's torchattacks, from the smoke run's cache"""
    from robint.claims import load_per_image
    out, _, _ = smoke
    fig, runs = out/'figures'/'smoke', out/'runs'/'smoke'
    res = json.loads((fig/'results.json').read_text())
    tc, tc2, tc3 = (res[k] for k in ('tableC_autoattack', 'tableC2_autoattack_vs_pgd', 'tableC3_autoattack_attacks'))
    pgd, meta = load_per_image(runs, '02_robustness')
    aa, aa_meta = load_per_image(runs, '02b_autoattack')
    n = aa_meta['images']
    assert n == 8 and meta['images'] >= n and aa_meta['attacks'] == ['apgd-ce', 'apgd-t', 'fab-t', 'square'], aa_meta
    col = lambda t, c: t['columns'].index(c)
    rows = {r[0]: r for r in tc['rows']}
    assert sorted(rows) == ['robust', 'standard'] and 'not run: torchattacks is not installed' in tc['caption'], tc
    assert 'torchattacks AutoAttack (10 it.)' not in tc['columns'], tc['columns']   # not run: no column, no NaN
    for name, r in rows.items():
        p, a = pgd[f'pgd/{name}'][:n] > 0.5, aa[f'autoattack/{name}'] > 0.5
        assert r[col(tc, 'PGD-20 x 1 (Table 1)')] == round(100 * p.mean(), 2), (name, r)
        assert r[col(tc, 'AutoAttack (reference)')] == round(100 * a.mean(), 2) <= r[col(tc, 'PGD-20 x 1 (Table 1)')] + 1e-9, (name, r)
        assert r[col(tc, 'AutoAttack - PGD')] == round(100 * (a.astype(float) - p).mean(), 2)
        two = dict(zip(tc2['columns'], next(x for x in tc2['rows'] if x[0] == name)))
        assert two['both robust'] == int((a & p).sum()) and two['PGD robust, AutoAttack broke it'] == int((~a & p).sum())
        assert two['both robust'] + two['PGD robust, AutoAttack broke it'] + two['PGD broke it, AutoAttack robust'] + two['both broke it'] == n
        broken = sum(x[col(tc3, 'images broken')] for x in tc3['rows'] if x[0] == name)
        wrong = round(n * (1 - r[col(tc, 'clean')] / 100))
        assert broken + wrong == n - int(a.sum()), (name, tc3['rows'])   # every image not robust was misclassified or broken by one attack
    # again with torchattacks, reusing the run's folders: the reference comes from its cache, torchattacks' column is filled
    shutil.copytree(runs, tmp_path/'runs')
    cmd = [sys.executable, '-m', 'papermill', '-k', 'python3', str(REPO/'nbs'/'paper'/'02b_autoattack.ipynb'), str(tmp_path/'02b.ipynb'),
           '-p', 'out_dir', str(tmp_path/'fig'), '-p', 'run_dir', str(tmp_path/'runs')]
    t0 = time.perf_counter(); r = subprocess.run(cmd, cwd=REPO/'nbs'/'paper', capture_output=True, text=True); secs = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr[-3000:]
    tc_b = json.loads((tmp_path/'fig'/'results.json').read_text())['tableC_autoattack']
    for row in tc_b['rows']:
        ta = row[col(tc_b, 'torchattacks AutoAttack (10 it.)')]
        assert row[col(tc_b, 'AutoAttack (reference)')] == rows[row[0]][col(tc, 'AutoAttack (reference)')]    # the same verdicts, from the cache
        assert 0 <= ta <= row[col(tc_b, 'clean')] and (ta * n / 100) == pytest.approx(round(ta * n / 100)), row
    assert (tmp_path/'runs'/'autoattack'/'robust.npz').is_file() and 'not run' not in tc_b['caption']
    print(f"\n02b with torchattacks, the reference from its cache: {secs:.0f} s")

def test_claims_ledger_holds_every_claim_with_a_finite_interval(smoke):
    "11_claims on the smoke profile: every claim of robint.claims.CLAIMS, measured ones with finite low <= effect <= high"
    from robint.claims import CLAIMS, VERDICTS
    out, _, _ = smoke
    figs = out/'figures'/'smoke'
    res = json.loads((figs/'results.json').read_text())
    from robint.claims import readout_claims
    ablation = readout_claims(['max', 'avg', 'flat', 'fake_max'], ['other', 'grey', 'uniform'])   # smoke's 05b_readouts
    rows = {r['id']: r for r in res['claims']['rows']}
    assert list(rows) == [c['id'] for c in CLAIMS + ablation] and res['claims']['train_seeds'] == [0]
    measured = [r for r in rows.values() if r['status'] == 'measured']
    assert len(measured) == len(CLAIMS) + len(ablation)          # Fashion-MNIST has masks: nothing is left unmeasured
    for r in measured:
        assert all(math.isfinite(r[k]) for k in ('low', 'effect', 'high')) and r['low'] <= r['effect'] <= r['high'], r
        assert r['verdict'] in VERDICTS and r['n'] >= 2 and r['n_seeds'] == 1, r
    assert rows['pgd_accuracy']['n'] == rows['clean_accuracy']['n'] == 500     # smoke's 500 test images (eval_n 0: all), per model
    text = (figs/'claims.md').read_text()
    assert all(c['claim'] in text for c in CLAIMS + ablation) and text.index(CLAIMS[-1]['claim']) < text.index('**The readout ablation**')
    index = (figs/'README.md').read_text()
    assert index.index("## Verdicts on the paper's claims") < index.index("## Deviations"), index[:2000]
    t2 = res['table2_fid']
    names = [r[0] for r in t2['rows']]
    assert names == ['Real data (train vs test)', 'Real data (test half vs test half)', 'Seeds (before optimisation)', 'standard model', 'robust model']
    col = lambda c: [r[t2['columns'].index(c)] for r in t2['rows']]
    for m in ('FID', 'KID'):
        assert all(lo <= v <= hi for lo, v, hi in zip(col(f'{m} low'), col(m), col(f'{m} high'))), (m, t2['rows'])
    for nb in ('02_robustness', '02b_autoattack', '03_attributions', '04_generation', '05_inversion', '05b_readouts', '06_feature_vis'):
        assert (out/'runs'/'smoke'/'per_image'/f'{nb}.npz').is_file(), nb

def test_readout_ablation_repeats_05_through_the_models_own_readout(smoke):
    """05b_readouts with readout_n = inv_n (smoke: 8) inverts 05's targets from 05's starts: through the models' own readout
    (the small ResNet's average) it repeats 05's inversions, image by image; the other readouts give other inversions"""
    import numpy as np
    from robint.claims import load_per_image
    out, _, _ = smoke
    runs = out/'runs'/'smoke'
    a05, _ = load_per_image(runs, '05_inversion')
    a5b, meta = load_per_image(runs, '05b_readouts')
    assert meta['native'] == {'standard': 'avg', 'robust': 'avg'} and meta['targets'] == 8
    for k in ('standard', 'robust'):
        for s05, s5b in (('inv1', 'other'), ('inv2', 'uniform')):
            for m in ('ssim_margin', 'l2_margin', 'feature'):
                np.testing.assert_allclose(a5b[f'{m}/{s5b}/avg/{k}'], a05[f'{m}/{s05}/{k}'], rtol=1e-4, atol=1e-4, err_msg=f'{m}/{s5b}/{k}')
        assert not np.allclose(a5b[f'ssim_margin/other/flat/{k}'], a05[f'ssim_margin/inv1/{k}'], atol=1e-3)
    res = json.loads((out/'figures'/'smoke'/'results.json').read_text())
    r1 = res['tableR1_readout_inversions']; col = lambda c: [row[r1['columns'].index(c)] for row in r1['rows']]
    assert len(r1['rows']) == 2 * 4 * 3                          # models x readouts x starts
    assert all(lo <= v <= hi for lo, v, hi in zip(col('SSIM margin low'), col('SSIM margin'), col('SSIM margin high')))
    assert set(col('resembles')) <= {'target', 'start', 'neither (inconclusive)'}
