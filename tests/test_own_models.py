"""Analyse your own models (1/2): a torchvision ResNet-18 pair through 02-06, and the bad inputs of this path, refused
before any layer runs. The RobustBench pair is in test_own_models_robustbench.py (a file of its own: pytest-xdist's
--dist loadfile then runs the two pairs on both workers). Fixtures and the pair check: own_models.py."""
import pickle, shutil, sys
from pathlib import Path
import pytest
import torch
from torch import nn
from conftest import REPO
from own_models import CIFAR_MEAN, CIFAR_STD, kernel_sees_this_robint, checkout, pairs, robustbench_wrn, check_pair

def test_a_torchvision_pair_through_the_analysis_notebooks(checkout, pairs, tmp_path):
    check_pair(checkout, pairs, tmp_path, 'torchvision', ['rn18_standard (torchvision:resnet18)', 'rn18_robust (torchvision:resnet18)'])

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
