# tryon: `make repro` rebuilds the whole pipeline, `make test` runs the tests.
# Both create .venv (pinned requirements.txt) on first use. `make help` lists every target.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= $(shell command -v python3.11 || command -v python3)
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
KERNEL := tryon
export PATH := $(BIN):$(PATH)
export MPLBACKEND := Agg
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.DEFAULT_GOAL := help
.PHONY: help setup repro test test-fast lab lint format bench clean-outputs mediapipe screenshot browser \
	readme-table readme-figure explore-screenshot

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# Disk: .venv takes about 5.3 GB (torch's CUDA build, 3.2 GB of it NVIDIA libraries that `import torch`
# loads even on a CPU), .venv-mediapipe 1 GB, `make test` about 2 GB more while it runs. pip keeps no
# download cache (--no-cache-dir), and torch's Triton compiler (0.9 GB, the GPU kernels of torch.compile,
# which tryon never calls) is removed after the install. A failed install says how much disk was free.
PIP_INSTALL = -m pip install --disable-pip-version-check --no-cache-dir -q
FREE = $$(df -h --output=avail . | tail -1 | tr -d ' ')

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python $(PIP_INSTALL) -r requirements.txt || { \
		echo "error: installing requirements.txt into $(VENV) failed; $(FREE) free on this disk (it needs about 6.5 GB while it installs)" >&2; exit 1; }
	$(BIN)/python $(PIP_INSTALL) --no-deps -e .
	$(BIN)/python -m pip uninstall --disable-pip-version-check -y -q triton
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (tryon)" >/dev/null
	@touch $(STAMP)

setup: $(STAMP) ## create .venv, install pinned requirements + tryon (editable) + the jupyter kernel

MP_VENV := .venv-mediapipe
MP_STAMP := $(MP_VENV)/.installed

$(MP_STAMP): requirements-mediapipe.txt
	@test -x $(MP_VENV)/bin/python || $(PYTHON) -m venv $(MP_VENV)
	@$(MP_VENV)/bin/python $(PIP_INSTALL) -r requirements-mediapipe.txt || { \
		echo "error: installing requirements-mediapipe.txt into $(MP_VENV) failed; $(FREE) free on this disk (it needs about 1.3 GB while it installs)" >&2; exit 1; }
	@touch $(MP_STAMP)

mediapipe: $(MP_STAMP) ## optional: .venv-mediapipe (mediapipe 0.10.21, numpy<2) for auto-parse without a parse map

# `make repro` and `make test` also install .venv-mediapipe, so that 06's report and the tests cover
# photos without a parse map; MEDIAPIPE=0 skips it (the report says that path was not run, those
# tests skip with the reason).
MEDIAPIPE ?= 1
MP_DEP := $(if $(filter 0,$(MEDIAPIPE)),,mediapipe)

repro: setup $(MP_DEP) ## run the whole DVC pipeline (params.yaml) -> reports/index.html
	$(BIN)/dvc repro
	@echo "open reports/index.html"

test: setup $(MP_DEP) browser ## run every test (includes the small end-to-end dvc repro on profiles/tiny.yaml)
	$(BIN)/python -m pytest

test-fast: setup $(MP_DEP) browser ## the tests without the slow ones
	$(BIN)/python -m pytest -m "not slow"

# Headless Chromium from Debian's packages, for the front page's browser test (tests/test_front_page.py)
# and `make screenshot`. Installed when missing and apt-get can run (root); apt-get waits for a dpkg lock
# held by another process and the install is retried. Where it cannot be installed, the browser test
# skips, except with CI set (.ci/run), where this target and that test fail.
# The .deb files go to a temporary folder, removed after the install.
CHROMIUM := /usr/bin/chromium
CHROMIUM_FLAGS := --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --hide-scrollbars
APT := DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300

browser: ## install headless Chromium (Debian's package) when it is missing; needs root
	@test -x $(CHROMIUM) && exit 0; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "$(if $(CI),error,warning): $(CHROMIUM) missing and apt-get needs root" \
			"(apt-get install chromium); the browser test $(if $(CI),fails,skips)" >&2; \
		exit $(if $(CI),1,0); \
	fi; \
	for try in 1 2 3 4 5; do \
		debs=$$(mktemp -d) && mkdir -p $$debs/partial; \
		$(APT) update && $(APT) -o Dir::Cache::archives=$$debs -o APT::Sandbox::User=root install -y --no-install-recommends \
			chromium fonts-liberation >/dev/null && { rm -rf $$debs; exit 0; }; rm -rf $$debs; \
		echo "apt-get failed (try $$try of 5), retrying in 20 s" >&2; sleep 20; \
	done; \
	echo "$(if $(CI),error,warning): could not install chromium" >&2; exit $(if $(CI),1,0)

screenshot: browser ## reports/index.html as headless Chromium draws it -> reports/index.png
	@test -x $(CHROMIUM) || { echo "error: $(CHROMIUM) not found (make browser)" >&2; exit 2; }
	@test -f reports/index.html || { echo "error: reports/index.html not found (run make repro)" >&2; exit 2; }
	$(CHROMIUM) $(CHROMIUM_FLAGS) --user-data-dir=$$(mktemp -d) --window-size=1280,4000 \
		--screenshot=$(abspath reports/index.png) file://$(abspath reports/index.html) 2>/dev/null
	@echo "reports/index.png"

readme-table: setup ## rewrite README.md's results table from metrics/*.json (python -m tryon.report)
	$(BIN)/python -m tryon.report readme-table --write README.md

readme-figure: setup ## redraw docs/figure.png (a synthetic test body through models/model.pt)
	$(BIN)/python -m tryon.report figure --checkpoint models/model.pt --out docs/figure.png

lab: setup ## start jupyter lab on notebooks/explore.ipynb, the explorer (adds --allow-root when run as root)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root,) notebooks/explore.ipynb

# CHECKPOINT=path: another model than data/05_train/model.pt (else models/model.pt)
explore-screenshot: setup browser ## run notebooks/explore.ipynb headless, draw it in JupyterLab -> reports/explore.png
	@test -x $(CHROMIUM) || { echo "error: $(CHROMIUM) not found (make browser)" >&2; exit 2; }
	mkdir -p reports/executed
	$(BIN)/papermill -k $(KERNEL) --cwd . --log-level WARNING --no-progress-bar \
		$(if $(CHECKPOINT),-p checkpoint $(abspath $(CHECKPOINT)),) notebooks/explore.ipynb reports/executed/explore.ipynb
	$(BIN)/python -m tryon.viz.explore screenshot reports/executed/explore.ipynb --out reports/explore.png

lint: setup ## ruff lint + format check, notebooks stripped
	$(BIN)/ruff check tryon tests
	$(BIN)/ruff format --check tryon tests

format: setup ## ruff format + fix, strip notebook outputs
	$(BIN)/ruff format tryon tests
	$(BIN)/ruff check --fix tryon tests
	$(BIN)/nbstripout --keep-output=false notebooks/*.ipynb

bench: setup ## print the benchmarks (data generation, warp matching, inference)
	$(BIN)/tryon bench all
