# Every target bootstraps .venv on first use; re-running is cheap (a stamp file tracks pyproject.toml).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint fuzz bench clean schemas

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	-$(BIN)/pe-policy check fixtures/demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests policies
	$(BIN)/mypy

# 10,000 hypothesis examples per loader (CI runs 1,000: the `ci` profile in tests/conftest.py)
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/test_fuzz_loaders.py -q

# checkov and zizmor live in their own venv (checkov is heavy and pins its own dependencies)
BENCH_VENV := .bench-venv
$(BENCH_VENV)/.installed:
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check checkov zizmor
	@touch $@

bench: $(STAMP) $(BENCH_VENV)/.installed
	$(BIN)/python -m compileall -q src/pe_policy policies  # as an installed wheel would have
	$(BIN)/python benchmarks/run.py --write docs/benchmarks.md --readme README.md

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis benchmarks/corpus

schemas: $(STAMP)
	$(BIN)/pe-policy schema --write schemas
