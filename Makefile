# calcsim — the commands of the README's quick start:
#   make report install into .venv (pinned, hash-checked) and build the HTML report (the main job) into reports/
#   make test   install into .venv and run ruff (lint + format check) and the test suite
#   make lab    install into .venv and open JupyterLab on notebooks/ (the .py pairs open as notebooks)
#   make run    install and run the default scenario in the terminal
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.calcsim-installed
PIP    := $(BIN)/python -m pip --disable-pip-version-check
LINTED := analysis tests benchmarks scripts
#: pip-tools for `make lock` (the lock's own tool; not a dependency of calcsim)
PIP_TOOLS ?= pip-tools==7.6.2
#: extra arguments for `make lab`, e.g. LAB_ARGS="--no-browser --port 8899"
LAB_ARGS ?=

.PHONY: install run report test lint lab bench lock clean

# Every package, the build backend included, comes from requirements.lock with its hash checked; then calcsim itself.
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "calcsim needs Python >= 3.11 (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes -r requirements.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/calcsim run

report: install
	$(BIN)/calcsim report --out reports

lint: install
	$(BIN)/ruff check $(LINTED) .jupyter
	$(BIN)/ruff format --check $(LINTED) .jupyter

test: lint
	$(BIN)/python -m pytest

# JupyterLab on notebooks/, configured by .jupyter/jupyter_lab_config.py (jupytext pairs open as notebooks, the
# notebooks' python3 kernel is this venv's Python). Stop it with Ctrl-C (twice) in the terminal.
lab: install
	$(BIN)/jupyter-lab --config=.jupyter/jupyter_lab_config.py $(LAB_ARGS)

bench: install
	$(BIN)/python benchmarks/bench_simulate.py

# Re-resolve the pins with hashes (run by a maintainer, then commit requirements.lock): runtime + test extra +
# build backend (hatchling, editables), for Python 3.11. Pins already in requirements.lock are kept where they
# still fit pyproject.toml; delete a line (or the file) to let that package move. The index is pip's own
# configuration; the hashes are of every file of each pinned release, so any platform's pip can check them.
lock:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "make lock needs Python 3.11 (found " + sys.version.split()[0] + "): PYTHON=python3.11")'
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check '$(PIP_TOOLS)'
	CUSTOM_COMPILE_COMMAND="make lock" .lock-venv/bin/pip-compile --quiet --generate-hashes --allow-unsafe \
	  --strip-extras --no-emit-index-url --no-emit-find-links --extra test --all-build-deps \
	  --output-file requirements.lock pyproject.toml
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .lock-venv
