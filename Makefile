# Every target creates what it needs: the virtual environment, the package and
# the Pulumi CLI (from PATH, else built once per machine into ~/.cache).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: venv toolchain demo demo-destroy test bench lint clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

toolchain:
	@bash scripts/pulumi-toolchain.sh

demo: venv toolchain
	$(BIN)/python scripts/demo.py

demo-destroy: venv
	$(BIN)/python scripts/demo.py --destroy

test: venv toolchain
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: venv
	$(BIN)/python bench/lineage_bench.py
	$(BIN)/python bench/clone_bench.py

lint: venv
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .state .pytest_cache .ruff_cache *.egg-info
