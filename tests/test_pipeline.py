"The papermill runner end to end: a fake checkout with three tiny paper notebooks, run, cached, changed, failed and fixed."
import json, os, re, shutil, subprocess, sys, time
from pathlib import Path

import nbformat
import pytest

from robint.pipeline import NotebookFailed, PROFILES, read_results, run_paper

REPO = Path(__file__).resolve().parents[1]

SMOKE = """# smoke profile of the fake checkout
dataset_label: toy numbers   # shown in the index
deviations:
  - nothing is trained
a: 1         # 01_a
b: 2         # 02_b
note: hello  # 02_b, printed only: its outputs do not depend on it
c: 3         # 03_c
fail: false  # 03_c raises when true
cell_timeout: 120
"""

NOTEBOOKS = {
    '01_a': ("a = 1\nout_dir = 'figs'\nrun_dir = 'runs'",
             ["from pathlib import Path\nimport pandas as pd\nfrom robint.pipeline import Results",
              "Path(run_dir, 'a.txt').write_text(str(a))\n"
              "Results(out_dir).table('table1_a', pd.DataFrame({'name': ['a'], 'value': [a]}), 'Table 1', 'the value of a',\n"
              "                       paper_df=pd.DataFrame({'name': ['a'], 'value': [7]}))"]),
    '02_b': ("b = 2\nnote = ''\nout_dir = 'figs'\nrun_dir = 'runs'",
             ["from pathlib import Path\nimport matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
              "from robint.pipeline import Results",
              "a = int(Path(run_dir, 'a.txt').read_text())\nPath(run_dir, 'b.txt').write_text(str(a + b))\nprint(note)\n"
              "fig, ax = plt.subplots(figsize=(2, 2)); ax.bar(['a', 'b'], [a, b])\n"
              "Results(out_dir).figure(fig, 'fig2_ab', 'Figure 2', 'a and b')"]),
    '03_c': ("c = 3\nfail = False\ndata_root = None\nprofile = 'smoke'\nout_dir = 'figs'\nrun_dir = 'runs'",
             ["from pathlib import Path\nimport pandas as pd\nfrom robint.pipeline import Results\n"
              "s = int(Path(run_dir, 'b.txt').read_text()) + c",
              "if fail: raise ValueError(f'c failed on purpose ({profile})')",
              "Path(run_dir, 'c.txt').write_text(str(s))\nres = Results(out_dir)\nres.value('s', s)\n"
              "res.table('extra_sum', pd.DataFrame({'s': [s]}), None, 'a + b + c')"]),
}

# what pip's console_scripts wrapper does for robint-paper=robint.pipeline:robint_paper
WRAPPER = "import sys\nfrom robint.pipeline import robint_paper\nsys.exit(robint_paper())\n"

def make_notebook(path:Path, params:str, cells:list[str]):
    nb = nbformat.v4.new_notebook()
    nb.metadata['kernelspec'] = dict(name='python3', display_name='Python 3', language='python')
    p = nbformat.v4.new_code_cell(params); p.metadata['tags'] = ['parameters']
    nb.cells = [nbformat.v4.new_markdown_cell(f'# {path.stem}'), p] + [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, str(path))

def make_checkout(root:Path)->Path:
    (root/'nbs'/'paper'/'params').mkdir(parents=True)
    (root/'settings.ini').write_text('[DEFAULT]\nlib_name = fake\n')
    (root/'nbs'/'paper'/'params'/'smoke.yaml').write_text(SMOKE)
    for stem, (params, cells) in NOTEBOOKS.items(): make_notebook(root/'nbs'/'paper'/f'{stem}.ipynb', params, cells)
    return root

def set_param(root:Path, key:str, value:str):
    p = root/'nbs'/'paper'/'params'/'smoke.yaml'
    lines = [f"{key}: {value}" if l.split(':')[0] == key else l for l in p.read_text().splitlines()]
    p.write_text('\n'.join(lines) + '\n')

def outputs(root:Path)->dict:
    "{path: (mtime_ns, bytes)} of every file under figures/ and runs/"
    return {p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
            for d in ('figures', 'runs') for p in sorted((root/d).rglob('*')) if p.is_file()}

def mtimes(root:Path, *rels:str)->dict: return {r: (root/r).stat().st_mtime_ns for r in rels}

@pytest.fixture(autouse=True)
def kernel_sees_this_robint(monkeypatch):
    "Kernels started by papermill import the robint under test, not another installed copy"
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join([str(REPO)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))

@pytest.fixture(scope='module')
def first_run(tmp_path_factory):
    "A fake checkout after one full run: (root, summary, seconds)"
    root = make_checkout(tmp_path_factory.mktemp('first')/'repo')
    t0 = time.perf_counter(); summary = run_paper('smoke', root=root, progress=False)
    return root, summary, time.perf_counter() - t0

def copy_checkout(src:Path, dst:Path)->Path:
    shutil.copytree(src, dst)   # copy2 keeps mtimes; the cache records paths relative to the checkout
    return dst

def test_first_run_then_everything_cached(first_run, tmp_path):
    root0, summary, secs = first_run
    assert summary == {'01_a': 'ran', '02_b': 'ran', '03_c': 'ran'}
    for stem in NOTEBOOKS:
        assert (root0/'runs'/'smoke'/f'{stem}.ipynb').exists() and (root0/'runs'/'smoke'/f'{stem}.html').exists()
        assert (root0/'runs'/'smoke'/'.stamps'/f'{stem}.json').exists()
    fig = root0/'figures'/'smoke'
    assert (fig/'fig2_ab.png').exists() and (fig/'table1_a.csv').exists() and (fig/'table1_a.md').exists()
    res = read_results(fig)
    assert res['table1_a']['rows'] == [['a', 1]] and res['table1_a']['paper_rows'] == [['a', 7]]
    assert res['figures']['fig2_ab']['notebook'] == '02_b'   # credited through $ROBINT_NOTEBOOK
    assert res['values'] == {'s': 6} and set(res['wall_time_s']) == set(NOTEBOOKS)
    readme = (fig/'README.md').read_text()
    assert readme.index('### Figure 2') < readme.index('### Table 1') < readme.index('### Extra: a + b + c')
    assert '- nothing is trained' in readme and 'toy numbers' in readme
    stamp = json.loads((root0/'runs'/'smoke'/'.stamps'/'02_b.json').read_text())
    assert sorted(stamp['outputs']) == ['figures/smoke/fig2_ab.png', 'runs/smoke/b.txt']
    # a second run, in a moved copy of the checkout: nothing reruns, nothing changes
    root = copy_checkout(root0, tmp_path/'moved')
    before = outputs(root)
    t0 = time.perf_counter(); again = run_paper('smoke', root=root, progress=False); cached = time.perf_counter() - t0
    assert again == {'01_a': 'cached', '02_b': 'cached', '03_c': 'cached'}
    assert outputs(root) == before     # same bytes and mtimes, results.json and README.md included
    assert cached < 5, cached
    print(f"\nfirst run of 3 notebooks {secs:.1f} s, fully cached rerun {cached:.2f} s")
    # results.json deleted: the cached notebooks put their entries back
    (root/'figures'/'smoke'/'results.json').unlink()
    assert run_paper('smoke', root=root, progress=False) == again
    assert read_results(root/'figures'/'smoke')['table1_a'] == res['table1_a']
    # a changed output file is not a cache hit; --force reruns what is selected
    (root/'runs'/'smoke'/'c.txt').write_text('tampered')
    assert run_paper('smoke', root=root, progress=False, only='03')['03_c'] == 'ran'
    assert (root/'runs'/'smoke'/'c.txt').read_text() == '6'
    assert run_paper('smoke', root=root, progress=False, only=['01_a'], force=True) == {'01_a': 'ran'}

def test_changed_parameter_reruns_it_and_what_follows(first_run, tmp_path):
    root = copy_checkout(first_run[0], tmp_path/'repo')
    keep = mtimes(root, 'runs/smoke/a.txt', 'figures/smoke/table1_a.csv')
    set_param(root, 'b', '5')
    assert run_paper('smoke', root=root, progress=False) == {'01_a': 'cached', '02_b': 'ran', '03_c': 'ran'}
    assert mtimes(root, *keep) == keep
    assert (root/'runs'/'smoke'/'c.txt').read_text() == '9' and read_results(root/'figures'/'smoke')['values']['s'] == 9
    # a rerun that writes identical bytes does not rerun the notebooks after it
    set_param(root, 'note', 'changed')
    assert run_paper('smoke', root=root, progress=False) == {'01_a': 'cached', '02_b': 'ran', '03_c': 'cached'}

def test_a_rerun_marks_what_it_did_not_rerun_out_of_date(first_run, tmp_path):
    root = copy_checkout(first_run[0], tmp_path/'repo'); fig = root/'figures'/'smoke'
    set_param(root, 'a', '4')                       # 01 now writes another a.txt: 02 and 03 rest on the old one
    assert run_paper('smoke', root=root, progress=False, only='01') == {'01_a': 'ran'}
    stale = read_results(fig)['stale']
    assert sorted(stale) == ['02_b', '03_c'] and 'made before 01_a was re-run' in stale['02_b']
    assert 'robint-paper --profile smoke --only 03_c' in stale['03_c']
    readme = (fig/'README.md').read_text()
    assert '## Out of date' in readme and '### OUT OF DATE: Figure 2' in readme and '### OUT OF DATE: Extra: a + b + c' in readme
    assert '### Table 1' in readme and 'OUT OF DATE: Table 1' not in readme      # 01's own table is current
    assert run_paper('smoke', root=root, progress=False, only='02') == {'02_b': 'ran'}
    assert sorted(read_results(fig)['stale']) == ['03_c']
    assert run_paper('smoke', root=root, progress=False) == {'01_a': 'cached', '02_b': 'cached', '03_c': 'ran'}
    assert 'stale' not in read_results(fig) and 'OUT OF DATE' not in (fig/'README.md').read_text()
    assert read_results(fig)['values']['s'] == 4 + 2 + 3

def needs(path:Path, stems:list[str]):
    "Give a notebook the metadata robint.needs"
    nb = json.loads(path.read_text()); nb['metadata']['robint'] = {'needs': stems}; path.write_text(json.dumps(nb))

def test_a_notebook_rests_only_on_what_it_needs(first_run, tmp_path):
    "04_d needs 01_a only; 03_c needs 02_b only (and through it 01_a): reruns and out-of-date marks follow those lists"
    root = copy_checkout(first_run[0], tmp_path/'repo'); fig, nbs = root/'figures'/'smoke', root/'nbs'/'paper'
    make_notebook(nbs/'04_d.ipynb', "out_dir = 'figs'\nrun_dir = 'runs'",
                  ["from pathlib import Path\nimport pandas as pd\nfrom robint.results import Results",
                   "a = int(Path(run_dir, 'a.txt').read_text())\n"
                   "Results(out_dir).table('extra_d', pd.DataFrame({'twice a': [2 * a]}), None, 'twice a')"])
    needs(nbs/'04_d.ipynb', ['01_a']); needs(nbs/'03_c.ipynb', ['02_b'])
    assert run_paper('smoke', root=root, progress=False) == {'01_a': 'cached', '02_b': 'cached', '03_c': 'ran', '04_d': 'ran'}
    set_param(root, 'b', '5')                       # 02 writes another b.txt: 03 reruns, 04 does not
    assert run_paper('smoke', root=root, progress=False) == {'01_a': 'cached', '02_b': 'ran', '03_c': 'ran', '04_d': 'cached'}
    set_param(root, 'b', '6')
    assert run_paper('smoke', root=root, progress=False, only='02') == {'02_b': 'ran'}
    assert sorted(read_results(fig).get('stale', {})) == ['03_c']          # 04_d rests on 01_a only: current
    set_param(root, 'a', '4')
    assert run_paper('smoke', root=root, progress=False, only='01') == {'01_a': 'ran'}
    stale = read_results(fig)['stale']
    assert sorted(stale) == ['02_b', '03_c', '04_d'] and 'made before 01_a' in stale['03_c']   # 03_c through 02_b
    assert run_paper('smoke', root=root, progress=False) == {'01_a': 'cached', '02_b': 'ran', '03_c': 'ran', '04_d': 'ran'}
    assert read_results(fig)['extra_d']['rows'] == [[8]] and 'stale' not in read_results(fig)
    needs(nbs/'02_b.ipynb', ['03_c'])              # a need must come earlier in the sequence: refused before anything runs
    with pytest.raises(ValueError, match="02_b.ipynb: metadata robint.needs names '03_c', not an earlier notebook"): run_paper('smoke', root=root, progress=False)

def test_failure_names_notebook_and_cell_then_resumes(tmp_path):
    root = make_checkout(tmp_path/'repo')
    set_param(root, 'fail', 'true')
    with pytest.raises(NotebookFailed) as ei: run_paper('smoke', root=root, progress=False)
    e, msg = ei.value, str(ei.value)
    assert (e.notebook, e.cell, e.ename) == ('03_c', 3, 'ValueError')
    assert msg.startswith('notebook 03_c failed in cell 3 (0-based, In [') and 'ValueError: c failed on purpose (smoke)' in msg
    executed = root/'runs'/'smoke'/'03_c.ipynb'
    assert executed.exists() and executed.with_suffix('.html').exists() and str(executed) in msg
    assert 'c failed on purpose' in executed.read_text()                       # the traceback is kept
    stamps = root/'runs'/'smoke'/'.stamps'
    assert sorted(p.name for p in stamps.iterdir()) == ['01_a.json', '02_b.json']
    assert '03_c' not in read_results(root/'figures'/'smoke')['wall_time_s']
    keep = mtimes(root, 'runs/smoke/a.txt', 'runs/smoke/b.txt', 'figures/smoke/fig2_ab.png', 'runs/smoke/01_a.ipynb')
    # the console script: exit status 1 and the same message (--only, and the dashed --data-root spelling)
    (root/'data').mkdir(); (tmp_path/'robint-paper').write_text(WRAPPER)
    r = subprocess.run([sys.executable, str(tmp_path/'robint-paper'), '--profile', 'smoke', '--only', '03', '--data-root', 'data'],
                       cwd=root, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1, r.stderr
    assert 'robint-paper: notebook 03_c failed in cell 3' in r.stderr and 'ValueError: c failed on purpose' in r.stderr
    # fixed: 01 and 02 are not rerun, 03 completes
    set_param(root, 'fail', 'false')
    assert run_paper('smoke', root=root, progress=False) == {'01_a': 'cached', '02_b': 'cached', '03_c': 'ran'}
    assert mtimes(root, *keep) == keep
    assert (root/'runs'/'smoke'/'c.txt').read_text() == '6' and (stamps/'03_c.json').exists()

def test_console_script_rejects_bad_arguments(tmp_path):
    root = make_checkout(tmp_path/'repo'); (tmp_path/'robint-paper').write_text(WRAPPER)
    run = lambda *a: subprocess.run([sys.executable, str(tmp_path/'robint-paper'), *a], cwd=root/'nbs', capture_output=True, text=True, timeout=60)
    r = run('--profile', 'cifar100')
    assert r.returncode == 2 and "unknown profile 'cifar100'; choose one of: " + ', '.join(PROFILES) in r.stderr
    r = run('--profile', 'smoke', '--only', '01,99')
    assert r.returncode == 2 and "unknown --only '99'; choose from: 01_a, 02_b, 03_c" in r.stderr
    r = run('--profile', 'smoke', '--data-root', 'missing')
    assert r.returncode == 2 and f"--data-root: data root not found: {root/'nbs'/'missing'}" in r.stderr
    r = run('--profile', 'fashion-cpu')
    assert r.returncode == 2 and str(root/'nbs'/'paper'/'params'/'fashion-cpu.yaml') in r.stderr
    r = subprocess.run([sys.executable, str(tmp_path/'robint-paper'), '--profile', 'smoke'], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and 'outside a robint checkout, pass --out DIR' in r.stderr
    assert not (root/'runs').exists() and not (root/'figures').exists()
    r = run('--help')
    assert r.returncode == 0 and '--only' in r.stdout and '--force' in r.stdout

@pytest.mark.parametrize('allowed, kept', [('tags', True), ('', False)])
def test_parameters_tag_survives_nbdev_clean(tmp_path, allowed, kept):
    "With the repository's settings.ini nbdev_clean keeps the `parameters` tag; without `allowed_cell_metadata_keys = tags` it would not"
    ini = (REPO/'settings.ini').read_text()
    assert 'allowed_cell_metadata_keys = tags' in ini and 'clear_all = False' in ini
    (tmp_path/'settings.ini').write_text(ini.replace('allowed_cell_metadata_keys = tags', f'allowed_cell_metadata_keys = {allowed}'))
    (tmp_path/'nbs').mkdir(); nb = tmp_path/'nbs'/'01_a.ipynb'
    make_notebook(nb, *NOTEBOOKS['01_a'])
    clean = Path(sys.executable).parent/'nbdev_clean'
    r = subprocess.run([str(clean), '--fname', str(nb)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    tags = [c.get('metadata', {}).get('tags', []) for c in json.loads(nb.read_text())['cells']]
    assert (['parameters'] in tags) == kept

SLOW = ("n = 6\nout_dir = 'figs'\nrun_dir = 'runs'",
        ["import sys, time\nfrom tqdm.auto import tqdm\nfor i in tqdm(range(30), desc='slowbar'): time.sleep(0.1)",
         "for i in range(n):\n    print(f'step {i + 1}/{n}', file=sys.stderr); time.sleep(1)"])

def test_progress_on_stderr_heartbeat_and_busy_warning(tmp_path):
    "Not a terminal: start and end lines, heartbeats with the cell and the latest output, busy-machine warnings; text bars in the kernel"
    root = tmp_path/'repo'; (root/'nbs'/'paper'/'params').mkdir(parents=True)
    (root/'settings.ini').write_text('[DEFAULT]\n'); (root/'nbs'/'paper'/'params'/'smoke.yaml').write_text('n: 6\n')
    make_notebook(root/'nbs'/'paper'/'01_slow.ipynb', *SLOW); (tmp_path/'robint-paper').write_text(WRAPPER)
    busy = subprocess.Popen([sys.executable, '-c', 'import time\nt = time.time()\nwhile time.time() - t < 60: pass'])
    try:
        with open(tmp_path/'stderr.txt', 'w') as err:
            r = subprocess.run([sys.executable, str(tmp_path/'robint-paper'), '--profile', 'smoke', '--heartbeat', '1'],
                               cwd=root, stdout=subprocess.PIPE, stderr=err, text=True, timeout=120)
    finally: busy.kill(); busy.wait()
    log = (tmp_path/'stderr.txt').read_text()
    assert r.returncode == 0, log
    assert re.search(r'^01_slow: started \(1/1\) at \d\d:\d\d:\d\d$', log, re.M) and re.search(r'^01_slow: ran in \d+\.\d s$', log, re.M), log
    assert re.search(r'^01_slow: running for 0 min \d\d s, cell 3 \(for i in range\(n\):\); latest output: step [1-6]/6$', log, re.M), log
    assert 'WARNING: other processes used' in log and 'during the second before the start' in log, log
    assert re.search(r'WARNING: other processes used \d\.\d of \d+ CPU cores during the last 1 s of 01_slow', log), log
    cells = json.loads((root/'runs'/'smoke'/'01_slow.ipynb').read_text())['cells']
    outs = [o for c in cells for o in c.get('outputs', [])]
    assert not any('application/vnd.jupyter.widget-view+json' in o.get('data', {}) for o in outs)   # text, not a widget
    bar = ''.join(''.join(o['text']) for o in outs if o.get('name') == 'stderr' and 'slowbar' in ''.join(o['text']))
    assert bar.count('slowbar') == 2, bar          # 3 s of a 30-step bar: drawn at the start and at the end, no refresh in between

LONG = ("out_dir = 'figs'\nrun_dir = 'runs'",
        ["import os, time\nfrom pathlib import Path\nPath(run_dir).mkdir(parents=True, exist_ok=True)\n"
         "Path(run_dir, 'kernel.pid').write_text(str(os.getpid()))\n"
         "try:\n    while True: time.sleep(0.05)\n"
         "except KeyboardInterrupt:\n    Path(run_dir, 'saved').write_text('state saved'); raise"])   # what train() does on Ctrl-C

def test_sigterm_reaches_the_kernel_as_ctrl_c(tmp_path):
    "`kill PID` of robint-paper (a batch scheduler's stop): the kernel gets SIGINT, saves its state, and both processes end"
    import psutil, signal
    root = tmp_path/'repo'; (root/'nbs'/'paper'/'params').mkdir(parents=True)
    (root/'settings.ini').write_text('[DEFAULT]\n'); (root/'nbs'/'paper'/'params'/'smoke.yaml').write_text('a: 1\n')
    make_notebook(root/'nbs'/'paper'/'01_long.ipynb', *LONG); (tmp_path/'robint-paper').write_text(WRAPPER)
    p = subprocess.Popen([sys.executable, str(tmp_path/'robint-paper'), '--profile', 'smoke'], cwd=root,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid, t0 = root/'runs'/'smoke'/'kernel.pid', time.time()
    while not pid.exists() and time.time() - t0 < 90 and p.poll() is None: time.sleep(0.2)
    assert pid.exists(), p.communicate(timeout=30)
    time.sleep(0.5); kernel = psutil.Process(int(pid.read_text()))
    p.send_signal(signal.SIGTERM)                                    # to the runner only, not to its process group
    out, err = p.communicate(timeout=60)
    assert p.returncode == 143, err
    assert (root/'runs'/'smoke'/'saved').read_text() == 'state saved'  # the kernel ran its KeyboardInterrupt handler
    assert 'SIGTERM: interrupting the running notebook' in err and 'KeyboardInterrupt' in err and 'rerun the same command' in err, err
    kernel.wait(timeout=30)                                          # no orphaned kernel left computing
    assert not kernel.is_running()

def test_tqdm_is_a_widget_in_jupyter(tmp_path):
    "Outside robint-paper (JupyterLab, plain papermill), ipywidgets is installed, so tqdm.auto draws a widget"
    import nbclient
    nb = nbformat.v4.new_notebook(); nb.metadata['kernelspec'] = dict(name='python3', display_name='Python 3', language='python')
    nb.cells = [nbformat.v4.new_code_cell("from tqdm.auto import tqdm\nfor i in tqdm(range(3)): pass")]
    nbclient.NotebookClient(nb, kernel_name='python3', timeout=60).execute()
    assert any('application/vnd.jupyter.widget-view+json' in o.get('data', {}) for o in nb.cells[0].outputs), nb.cells[0].outputs

def test_seeds_rerun_the_paper_part_per_seed_and_the_ledger_sees_every_seed(tmp_path):
    "--seeds 0,2: 01-06 once more for seed 2 under seed-2/, a notebook declaring train_seeds after both; cached on rerun"
    root = make_checkout(tmp_path/'repo')
    paper = root/'nbs'/'paper'
    make_notebook(paper/'01_a.ipynb', "a = 1\nseed = 0\nout_dir = 'figs'\nrun_dir = 'runs'",
                  ["from pathlib import Path\nPath(run_dir).mkdir(parents=True, exist_ok=True)\nPath(run_dir, 'a.txt').write_text(str(a + 100 * seed))"])
    make_notebook(paper/'11_l.ipynb', "seed = 0\ntrain_seeds = [0]\nout_dir = 'figs'\nrun_dir = 'runs'",
                  ["import json\nfrom pathlib import Path\nfrom robint.pipeline import Results, seed_dir\n"
                   "seen = {str(s): int(Path(seed_dir(run_dir, s, seed), 'c.txt').read_text()) for s in train_seeds}\n"
                   "Results(out_dir).value('seen', json.dumps(seen, sort_keys=True))"])
    with pytest.raises(ValueError, match="must include the profile's seed 0"): run_paper('smoke', root=root, progress=False, seeds='1,2')
    assert not (root/'runs').exists()                               # refused before anything ran
    summary = run_paper('smoke', root=root, progress=False, seeds='0,2')
    assert summary == {'seed-2/01_a': 'ran', 'seed-2/02_b': 'ran', 'seed-2/03_c': 'ran', '01_a': 'ran', '02_b': 'ran', '03_c': 'ran', '11_l': 'ran'}
    runs, figs = root/'runs'/'smoke', root/'figures'/'smoke'
    assert (runs/'c.txt').read_text() == '6' and (runs/'seed-2'/'c.txt').read_text() == '206'
    assert json.loads(read_results(figs)['values']['seen']) == {'0': 6, '2': 206}
    assert read_results(figs/'seed-2')['values'] == {'s': 206} and (figs/'seed-2'/'README.md').exists()
    assert read_results(figs)['profile']['train_seeds'] == [0, 2]
    again = run_paper('smoke', root=root, progress=False, seeds='0,2')
    assert set(again.values()) == {'cached'} and len(again) == 7
    # a seed's upstream output changes: its notebooks rerun, and so does the ledger; the main seed's stay cached
    set_param(root, 'c', '4')
    third = run_paper('smoke', root=root, progress=False, seeds='0,2')
    assert third['seed-2/03_c'] == third['03_c'] == third['11_l'] == 'ran' and third['seed-2/01_a'] == third['01_a'] == 'cached'
    assert json.loads(read_results(figs)['values']['seen']) == {'0': 7, '2': 207}
