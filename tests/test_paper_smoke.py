"The smoke profile through papermill end to end: every figure and table of the paper regenerated, cached on rerun."
import json, math, re, shutil, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import REPO

FIGURES = ['fig02_ig_shap_samples', 'fig03_generation_standard', 'fig03_generation_robust', 'fig04_inversion_other_class',
           'fig05_feature_vis_a', 'fig10_ig_grid', 'fig11_inversion_noise', 'fig12_feature_vis_b', 'fig13_shap_grid',
           'fig14_generation_seeds', 'figA_training_curves', 'figB_accuracy_vs_eps', 'figE_randomisation_check',
           'figS1_sip_at_examples', 'figS2_sip_at_accuracy_vs_eps', 'figM1_minibatch_attack_strength',
           'figP1_prototypes', 'figP2_prototype_samples', 'figP3_prototype_nearest', 'figH1_perceptibility_simulated']
TABLES = ['table1_accuracy', 'table2_fid', 'table3_inversion_distance', 'tableA_training', 'tableB_accuracy_vs_eps', 'tableD2_ig_completeness',
          'tableD_interpretability', 'tableE_randomisation', 'tableF_representation_distance', 'tableG_feature_vis',
          'tableS1_sip_at', 'tableM1_minibatch_attack_strength', 'tableM2_gradient_scale', 'tableP1_protoflow',
          'tableH1_perceptibility_simulated', 'tableH2_psychometric_simulated']

@pytest.fixture(scope='module')
def smoke(tmp_path_factory, fashion_root):
    "A copy of the checkout's paper notebooks and profiles, run once with the smoke profile"
    from robint.pipeline import run_paper
    root = tmp_path_factory.mktemp('checkout')
    shutil.copy(REPO/'settings.ini', root)
    shutil.copytree(REPO/'nbs'/'paper', root/'nbs'/'paper', ignore=shutil.ignore_patterns('.ipynb_checkpoints'))
    t = time.perf_counter(); first = run_paper('smoke', root=root, progress=False); secs = time.perf_counter() - t
    return root, first, secs

def test_every_figure_and_table_exists(smoke):
    root, first, secs = smoke
    out = root/'figures'/'smoke'
    from robint.pipeline import paper_notebooks
    assert set(first.values()) == {'ran'} and list(first) == [nb.stem for nb in paper_notebooks(root)], first
    missing = [f'{f}.png' for f in FIGURES if not (out/f'{f}.png').stat().st_size > 1000] + \
              [f'{t}.{e}' for t in TABLES for e in ('csv', 'md') if not (out/f'{t}.{e}').exists()]
    assert not missing, missing
    assert all((root/'runs'/'smoke'/f'{nb}.html').exists() for nb in first)     # executed notebooks, readable without Jupyter
    print(f"smoke sequence: {secs:.0f} s")

def test_results_hold_every_table_with_finite_numbers(smoke):
    root, _, _ = smoke
    from robint.pipeline import check_finite
    res = json.loads((root/'figures'/'smoke'/'results.json').read_text())
    assert set(TABLES) <= set(res), sorted(set(TABLES) - set(res))
    assert check_finite(res) == []
    for t in TABLES:
        nums = [v for row in res[t]['rows'] for v in row if isinstance(v, (int, float))]
        assert nums and all(math.isfinite(v) for v in nums), t
    from robint.pipeline import paper_notebooks
    assert set(res['wall_time_s']) == {nb.stem for nb in paper_notebooks(root)}
    assert {'01_train', '06_feature_vis', '07_sip_at', '08_minibatch', '09_protoflow'} <= set(res['wall_time_s'])

def test_every_paper_figure_and_table_has_a_counterpart(smoke):
    root, _, _ = smoke
    res = json.loads((root/'figures'/'smoke'/'results.json').read_text())
    refs = ' '.join(str(e.get('paper') or '') for e in list(res['figures'].values()) + [res[t] for t in TABLES])
    assert {int(n) for n in re.findall(r'Figure (\d+)', refs)} >= set(range(2, 20))
    assert {int(n) for n in re.findall(r'Table (\d+)', refs)} >= set(range(1, 7))
    index = (root/'figures'/'smoke'/'README.md').read_text()
    assert all(f'({f}.png)' in index for f in FIGURES) and 'Deviations from the paper' in index
    assert '93.2' in index                                       # the paper's Table 1 beside ours

def test_second_run_is_cached(smoke):
    root, _, _ = smoke
    from robint.pipeline import run_paper
    before = {p: p.stat().st_mtime_ns for p in (root/'figures'/'smoke').glob('*.png')}
    t = time.perf_counter(); again = run_paper('smoke', root=root, progress=False); secs = time.perf_counter() - t
    assert set(again.values()) == {'cached'}, again
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert secs < 60, secs

def test_a_papermill_parameter_changes_the_result(smoke, tmp_path):
    "papermill -p eval_eps 0.0: Table 1's adversarial column becomes the clean accuracy"
    root, _, _ = smoke
    out = tmp_path/'fig'
    cmd = [sys.executable, '-m', 'papermill', '-k', 'python3', str(root/'nbs'/'paper'/'02_robustness.ipynb'), str(tmp_path/'02.ipynb'),
           '-p', 'out_dir', str(out), '-p', 'run_dir', str(root/'runs'/'smoke'), '-p', 'eval_eps', '0.0', '-p', 'sweep_n', '50']
    subprocess.run(cmd, check=True, cwd=root/'nbs'/'paper', capture_output=True)
    ours = json.loads((out/'results.json').read_text())['table1_accuracy']
    base = json.loads((root/'figures'/'smoke'/'results.json').read_text())['table1_accuracy']
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
    cmd = [sys.executable, '-m', 'papermill', '-k', 'python3', str(root/'nbs'/'paper'/'07_sip_at.ipynb'), str(tmp_path/'07.ipynb'),
           '-p', 'out_dir', str(out), '-p', 'run_dir', str(run), '-p', 'sip_saliency', 'human', '-p', 'sip_mask_dir', str(tmp_path/'study'/'masks'),
           '-p', 'train_subset', '300', '-p', 'test_subset', '100', '-p', 'sweep_n', '50', '-p', 'eval_iters', '3', '-p', 'sip_steps', '2',
           '-y', 'sweep_eps: [1.0]']
    subprocess.run(cmd, check=True, cwd=root/'nbs'/'paper', capture_output=True)
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
