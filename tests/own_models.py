"""Fixtures and the pair check of test_own_models.py and test_own_models_robustbench.py (a file per model pair, so that
pytest-xdist's --dist loadfile runs the pairs on both workers). The pairs go through the analysis notebooks 02-06 at
smoke size, on a small CIFAR-10-shaped data set written here (3 x 32 x 32, 10 classes):
- a torchvision ResNet-18 pair with random weights, saved as bare safetensors state dicts, its architecture named in the profile;
- a RobustBench-architecture pair (robustbench's WideResNet), saved the way RobustBench's checkpoints are (torch.save of
  {'state_dict': ...} with 'module.' prefixes) and converted once with the robint-convert console script."""
import os, shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
import torch
from conftest import REPO

ANALYSIS = ['02_robustness', '03_attributions', '04_generation', '05_inversion', '06_feature_vis']
TABLES = ['table1_accuracy', 'tableB_accuracy_vs_eps', 'tableD_interpretability', 'table2_fid', 'table3_inversion_distance', 'tableG_feature_vis']
CIFAR_MEAN, CIFAR_STD = [0.4914, 0.4822, 0.4465], [0.2471, 0.2435, 0.2616]
SMALL = {   # the smoke profile, cut further: these runs are about the plumbing, not the numbers
    'dataset': 'cifar10', 'dataset_label': 'CIFAR-10-shaped test images (random, written by the test)', 'train_subset': 0, 'test_subset': 0,
    'val_size': 40, 'eval_n': 48, 'eval_iters': 5, 'sweep_eps': [0.5, 1.0], 'sweep_n': 24, 'ig_steps': 8, 'ig_trials': 1,
    'shap_nsamples': 16, 'shap_background': 16, 'metrics_n': 8, 'metrics_steps': 4, 'random_n': 2, 'random_stages': 1,
    'random_ig_steps': 4, 'gen_per_class': 2, 'gen_iters': 4, 'show_per_class': 2, 'inv_n': 2, 'inv_iters': 10,
    'vis_starts': 1, 'vis_iters': 8, 'vis_topk': 2, 'fid_batch': 20,
    'model_arch': 'torchvision:resnet18', 'model_mean': CIFAR_MEAN, 'model_std': CIFAR_STD}

@pytest.fixture(autouse=True)
def kernel_sees_this_robint(monkeypatch, tmp_path_factory):
    "Kernels started by papermill import the robint under test; decoded data is cached in a temporary folder"
    monkeypatch.setenv('PYTHONPATH', os.pathsep.join([str(REPO)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    monkeypatch.setenv('ROBINT_CACHE', str(tmp_path_factory.getbasetemp()/'robint-cache'))

@pytest.fixture(scope='module')
def checkout(tmp_path_factory):
    "A copy of the paper notebooks whose smoke profile reads a small CIFAR-10-shaped data set"
    from robint.data import write_cifar_miniature
    import yaml
    root = tmp_path_factory.mktemp('own')/'repo'
    shutil.copytree(REPO/'nbs'/'paper', root/'nbs'/'paper', ignore=shutil.ignore_patterns('.ipynb_checkpoints'))
    shutil.copy(REPO/'settings.ini', root)
    rng = np.random.default_rng(0)
    y = np.arange(400) % 10
    x = (rng.random((400, 3, 32, 32)) * 80 + y[:, None, None, None] * 15).astype(np.uint8)   # a little class signal
    data = write_cifar_miniature(root/'data', x, y, layout='bin')
    p = root/'nbs'/'paper'/'params'/'smoke.yaml'
    prof = {**yaml.safe_load(p.read_text()), **SMALL, 'data_root': str(data)}
    p.write_text(yaml.safe_dump(prof))
    return root

def robustbench_wrn():
    "RobustBench's WideResNet class (robustbench.model_zoo.architectures.wide_resnet), at depth 10 and width 1"
    from robint.models import foreign_net
    return foreign_net('robustbench:wide_resnet.WideResNet', {'depth': 10, 'widen_factor': 1, 'num_classes': 10})

@pytest.fixture(scope='module')
def pairs(checkout, tmp_path_factory):
    "{'torchvision': 'standard=...,robust=...', 'robustbench': ...}: the model files the runs are given"
    from safetensors.torch import save_file
    import torchvision
    d = tmp_path_factory.mktemp('models')
    for i, role in enumerate(('standard', 'robust')):
        torch.manual_seed(i)
        save_file(torchvision.models.resnet18(num_classes=10).state_dict(), str(d/f'rn18_{role}.safetensors'))
        torch.manual_seed(10 + i)
        net = robustbench_wrn()
        torch.save({'state_dict': {f'module.{k}': v for k, v in net.state_dict().items()}, 'epoch': 99}, d/f'wrn_{role}.pt')   # RobustBench's format
        r = subprocess.run([str(Path(sys.executable).parent/'robint-convert'), str(d/f'wrn_{role}.pt'), '--arch', 'robustbench:wide_resnet.WideResNet',
                            '--arch_kwargs', '{"depth": 10, "widen_factor": 1}', '--mean', ','.join(map(str, CIFAR_MEAN)),
                            '--std', ','.join(map(str, CIFAR_STD)), '--input_size', '32,32', '--out', str(d/f'wrn_{role}.safetensors')],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        assert 'WARNING: reading' in r.stderr and 'torch.load(weights_only=True)' in r.stderr     # the pickle warning is printed
        from robint.models import load_model
        m = load_model(d/f'wrn_{role}.safetensors')[0]
        x = torch.rand(2, 3, 32, 32)
        with torch.no_grad():   # the converted model is the network on normalised images
            xn = (x - torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1)) / torch.tensor(CIFAR_STD).view(1, 3, 1, 1)
            torch.testing.assert_close(m(x), net.eval()(xn), atol=1e-5, rtol=1e-4)
    return {'torchvision': f"standard={d/'rn18_standard.safetensors'},robust={d/'rn18_robust.safetensors'}",
            'robustbench': f"standard={d/'wrn_standard.safetensors'},robust={d/'wrn_robust.safetensors'}"}

def check_pair(checkout, pairs, tmp_path, pair, names):
    "Run 02-06 of the smoke profile on the given pair: every table made, nothing trained, the models named in every caption"
    from robint.pipeline import run_paper, read_results
    out = tmp_path/'out'
    summary = run_paper('smoke', root=checkout, out=out, models=pairs[pair], only=','.join(ANALYSIS), progress=False)
    assert summary == {nb: 'ran' for nb in ANALYSIS}, summary
    figs = out/'figures'/'smoke-models'
    res = read_results(figs)
    assert set(TABLES) <= set(res), sorted(set(TABLES) - set(res))
    assert not (out/'runs'/'smoke-models'/'models').exists()          # nothing was trained
    captions = [e['caption'] for e in res['figures'].values()] + [res[t]['caption'] for t in TABLES]
    assert all(f"standard = {names[0]}" in c and f"robust = {names[1]}" in c for c in captions), captions[:3]
    assert all((figs/e['file']).stat().st_size > 1000 for e in res['figures'].values())
    index = (figs/'README.md').read_text()
    assert '## Models analysed' in index and all(n in index for n in names)
