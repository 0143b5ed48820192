# calcsim — the two commands of the README's quick start:
#   make report install into .venv (pinned) and build the HTML report (the main job) into reports/
#   make test   install into .venv (pinned) and run ruff + the test suite
#   make run    install and run the default scenario in the terminal
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.calcsim-installed

.PHONY: install run report test lint bench lock clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "calcsim needs Python >= 3.11 (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/calcsim run

report: install
	$(BIN)/calcsim report --out reports

lint: install
	$(BIN)/ruff check analysis tests benchmarks scripts

test: lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python benchmarks/bench_simulate.py

# Re-resolve the pinned versions (run by a maintainer, then commit requirements.lock).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -e '.[test]' hatchling editables
	.lock-venv/bin/python -m pip uninstall --quiet -y calcsim
	{ echo "# Pinned dependencies of calcsim (runtime + test + build backend), Python 3.11."; \
	  echo "# Regenerate: make lock   (fresh venv, install pyproject deps, pip freeze)"; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable; } > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
