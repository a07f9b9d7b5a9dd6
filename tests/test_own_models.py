"""Analyse your own models: two model pairs through the analysis notebooks 02-06 at smoke size, on a small CIFAR-10-shaped
data set written here (3 x 32 x 32, 10 classes):
- a torchvision ResNet-18 pair with random weights, saved as bare safetensors state dicts, its architecture named in the profile;
- a RobustBench-architecture pair (robustbench's WideResNet), saved the way RobustBench's checkpoints are (torch.save of
  {'state_dict': ...} with 'module.' prefixes) and converted once with the robint-convert console script.
And the bad inputs of this path, refused before any layer runs."""
import json, os, pickle, re, shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
import torch
from torch import nn
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

@pytest.mark.parametrize('pair, names', [('torchvision', ['rn18_standard (torchvision:resnet18)', 'rn18_robust (torchvision:resnet18)']),
                                         ('robustbench', ['wrn_standard (robustbench:wide_resnet.WideResNet)', 'wrn_robust (robustbench:wide_resnet.WideResNet)'])])
def test_a_model_pair_through_the_analysis_notebooks(checkout, pairs, tmp_path, pair, names):
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

# ---------------------------------------------------------------- bad inputs, refused before any layer runs

class Spy:
    "Counts calls of every conv / linear layer of every model built while it is active"
    def __init__(self): self.n = 0
    def __enter__(self):
        self._h = nn.modules.module.register_module_forward_pre_hook(self._hit); return self
    def _hit(self, mod, args):
        if isinstance(mod, (nn.Conv2d, nn.Linear)): self.n += 1
    def __exit__(self, *a): self._h.remove()

class _Payload:
    def __init__(self, path): self.path = path
    def __reduce__(self): return (Path.touch, (Path(self.path),))

def _bad_cases(checkout, pairs, tmp):
    "(description, call, text the error must hold)"
    from robint.pipeline import run_paper
    from robint.models import convert_checkpoint, foreign_model, create_model, save_model
    from safetensors.torch import save_file
    import torchvision
    sd = torchvision.models.resnet18(num_classes=10).state_dict()
    save_file({k: v for k, v in sd.items() if k != 'layer2.0.conv1.weight'}, str(tmp/'missing.safetensors'))
    save_file({**sd, 'extra.bias': torch.zeros(3)}, str(tmp/'unexpected.safetensors'))
    save_file(torchvision.models.resnet18(num_classes=100).state_dict(), str(tmp/'c100.safetensors'))
    save_model(tmp/'grey', create_model('small_resnet', num_classes=10, in_channels=1, depth=8, width=4))
    torch.save({'state_dict': robustbench_wrn().state_dict()}, tmp/'wrn.pt')
    (tmp/'evil.pt').write_bytes(pickle.dumps({'state_dict': {'w': _Payload(tmp/'marker')}}))
    save_file(sd, str(tmp/'rn18.safetensors'))
    big = convert_checkpoint(tmp/'rn18.safetensors', tmp/'big', 'torchvision:resnet18', CIFAR_MEAN, CIFAR_STD, input_size='64,64')
    rn = pairs['torchvision'].split(',')[1].split('=')[1]
    rb = pairs['robustbench'].split(',')[1].split('=')[1]
    run = lambda models, **kw: lambda: run_paper('smoke', root=checkout, out=tmp/'out', models=models, progress=False, **kw)
    conv = lambda **kw: lambda: convert_checkpoint(**{'checkpoint': tmp/'wrn.pt', 'out': tmp/'conv', 'arch': 'robustbench:wide_resnet.WideResNet',
                                                      'mean': CIFAR_MEAN, 'std': CIFAR_STD, 'arch_kwargs': {'depth': 10, 'widen_factor': 1}, 'warn': lambda s: None, **kw})
    return [
        ('state dict with a key missing', run(f"standard={tmp/'missing.safetensors'},robust={rn}"), 'missing keys: layer2.0.conv1.weight'),
        ('state dict with an unexpected key', run(f"standard={tmp/'unexpected.safetensors'},robust={rn}"), 'unexpected keys: extra.bias'),
        ('a 100-class network for 10-class data', run(f"standard={rn},robust={tmp/'c100.safetensors'}"), 'final layer fc has 100 outputs, but num_classes=10'),
        ('a grey-image model for RGB data', run(f"standard={tmp/'grey.safetensors'},robust={rn}"), 'the model takes 1-channel images but the data has 3 channels'),
        ('an RGB model on the grey images of the smoke profile', lambda: _fashion_run(checkout, rb, tmp), 'the model takes 3-channel images but the data has 1 channels'),
        ('a model for 64 px images on 32 px data', run(f"standard={rn},robust={big}"), 'the model expects 64x64 images (its input_size) but the data is 32x32'),
        ('an unknown architecture', conv(arch='robustbench:wide_resnet.WideResNetXL'), "unknown architecture 'robustbench:wide_resnet.WideResNetXL'"),
        ('an unknown architecture source', conv(arch='keras:resnet50'), 'arch must be SOURCE:NAME with SOURCE one of torchvision, timm, robustbench'),
        ('RobustBench weights for other arch_kwargs', conv(arch_kwargs={'depth': 16, 'widen_factor': 1}), 'missing keys: block1.layer.1.bn1.bias'),
        ('a checkpoint whose unpickling would run code', conv(checkpoint=tmp/'evil.pt'), 'refused by torch.load(weights_only=True)'),
        ('a pickle given to --models', run(f"standard={tmp/'evil.pt'},robust={rn}"), 'never unpickles'),
        ('the mean not stated', conv(mean=None), '--mean and --std must be stated'),
        ('only one model', run(f"standard={rn}"), '--models needs the two models the notebooks compare'),
        ('a model file that is not there', run(f"standard={tmp/'nope.safetensors'},robust={rn}"), '--models standard: file not found'),
        ('a training notebook with --models', run(f"standard={rn},robust={rn}", only='01'), '01_train does not analyse given models'),
    ]

def _fashion_run(checkout, rb, tmp):
    "The smoke profile's own data (Fashion-MNIST, 1 x 28 x 28) with a CIFAR-shaped model"
    from robint.pipeline import run_paper
    fake = tmp/'fashion'; shutil.copytree(checkout/'nbs', fake/'nbs'); shutil.copy(checkout/'settings.ini', fake)
    shutil.copy(REPO/'nbs'/'paper'/'params'/'smoke.yaml', fake/'nbs'/'paper'/'params'/'smoke.yaml')
    return run_paper('smoke', root=fake, models=f"standard={rb},robust={rb}", progress=False)

def test_bad_inputs_are_refused_before_any_layer_runs(checkout, pairs, tmp_path):
    cases = _bad_cases(checkout, pairs, tmp_path)
    assert len(cases) >= 8
    for what, call, text in cases:
        with Spy() as spy, pytest.raises((ValueError, FileNotFoundError)) as e:
            call()
        assert text in str(e.value), (what, str(e.value))
        assert spy.n == 0, f"{what}: {spy.n} layer calls before the refusal"
    assert not (tmp_path/'marker').exists()                     # the payload never ran
    assert not (tmp_path/'conv.safetensors').exists()           # nothing was written for a refused conversion
    assert not (tmp_path/'out'/'runs').exists() or not any((tmp_path/'out'/'runs').rglob('*.ipynb'))   # no notebook ran
    pickle.loads((tmp_path/'evil.pt').read_bytes()); assert (tmp_path/'marker').exists()   # it really was a live payload

def test_robustbench_architectures_load_without_robustbench_s_own_imports():
    "robustbench 1.1.1's `import robustbench` fails here (its evaluation stack), yet its architectures build"
    from robint.models import foreign_net
    net = foreign_net('robustbench:wide_resnet.WideResNet', {'depth': 28, 'widen_factor': 10})   # the zoo's CIFAR-10 Linf Standard
    assert type(net).__name__ == 'WideResNet' and net.fc.out_features == 10 and sum(p.numel() for p in net.parameters()) > 36e6
    assert 'robustbench' not in sys.modules                                # the package's __init__ never ran
    with pytest.raises(ValueError, match="unknown architecture 'robustbench:no_such.Net'"):
        foreign_net('robustbench:no_such.Net')
