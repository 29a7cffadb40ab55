# Every target bootstraps .venv on first use, from the hashed lock; re-running is cheap
# (a stamp file tracks the lock).  The reference tools (opa, conftest, regal) are built
# once from pinned Go modules into .tools/bin (git-ignored) and reused after.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements/dev.lock
STAMP := $(VENV)/.installed
# the peers (checkov, zizmor): see `peers` below
BENCH_VENV := .bench-venv
PEERS_LOCK := requirements/peers.lock
UV_VERSION := 0.13.9

include tools/versions.mk
TOOLS := .tools/bin
TOOL_BINARIES := $(TOOLS)/opa $(TOOLS)/conftest $(TOOLS)/regal $(TOOLS)/sarif-multitool
# go's build and module caches stay where the machine keeps them; only the binaries are ours
GO ?= go

.PHONY: install tools peers demo test lint fuzz bench clean schemas lock

$(STAMP): $(LOCK) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

# `make lock` is the one way to move a dependency: it re-resolves pyproject.toml (every
# supported Python, every platform) and writes the hashes; then the Action's runtime lock (the
# runtime dependencies and the build backend only) at the same versions.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --universal --python-version 3.10 \
		--generate-hashes --upgrade -o $(LOCK)
	$(BIN)/uv pip compile --quiet pyproject.toml requirements/build.in --universal \
		--python-version 3.10 --generate-hashes -c $(LOCK) -o requirements/runtime.lock
	$(BIN)/uv pip compile --quiet requirements/peers.in --universal --python-version 3.11 \
		--generate-hashes -o requirements/peers.lock

# A tool on PATH at the pinned version is linked; otherwise it is built (first time: a few minutes).
$(TOOLS)/opa: tools/versions.mk
	@mkdir -p $(TOOLS)
	@bash tools/use-or-build.sh opa $(OPA_VERSION) "$(GO) install github.com/open-policy-agent/opa@$(OPA_VERSION)"

$(TOOLS)/conftest: tools/versions.mk
	@mkdir -p $(TOOLS)
	@bash tools/use-or-build.sh conftest $(CONFTEST_VERSION) "$(GO) install -ldflags=-X=github.com/open-policy-agent/conftest/internal/version.Version=$(CONFTEST_VERSION:v%=%) github.com/open-policy-agent/conftest@$(CONFTEST_VERSION)"

$(TOOLS)/regal: tools/versions.mk tools/regal/go.mod tools/regal/go.sum
	@mkdir -p $(TOOLS)
	@bash tools/use-or-build.sh regal $(REGAL_VERSION) "$(GO) build -C tools/regal -ldflags=-X=github.com/open-policy-agent/regal/pkg/version.Version=$(REGAL_VERSION) -o $(abspath $(TOOLS))/regal github.com/open-policy-agent/regal"

# Microsoft's SARIF Multitool, from npm at the pinned version (a self-contained binary per
# platform, in the package's optional dependency); the tests validate SARIF with GitHub's rules.
$(TOOLS)/sarif-multitool: tools/versions.mk
	@mkdir -p $(TOOLS)
	@bash tools/install-multitool.sh $(MULTITOOL_VERSION)

tools: $(TOOL_BINARIES)

demo: $(STAMP)
	@$(BIN)/pe-policy check fixtures/demo; code=$$?; \
	if [ $$code -eq 1 ]; then echo "(exit 1, as expected: the demo repository breaks rules on purpose)"; \
	else exit $$code; fi

test: $(STAMP) $(TOOL_BINARIES) $(BENCH_VENV)/.installed
	PATH="$(abspath $(TOOLS)):$$PATH" $(BIN)/python -m pytest

lint: $(STAMP) $(TOOLS)/opa $(TOOLS)/regal
	$(BIN)/ruff check src tests policies
	$(BIN)/mypy
	$(TOOLS)/opa check --strict policies infra/policy
	$(TOOLS)/regal lint policies infra/policy

# 10,000 hypothesis examples per loader (CI runs 1,000: the `ci` profile in tests/conftest.py)
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest tests/test_fuzz_loaders.py -q

# The peers, checkov and zizmor, live in their own venv (checkov is heavy and pins its own
# dependencies), installed from their hashed lock like .venv; the benchmarks and the checkov
# differential test use them (CI installs them: a missing peer fails a test there)
$(BENCH_VENV)/.installed: $(PEERS_LOCK)
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(PEERS_LOCK)
	@touch $@

peers: $(BENCH_VENV)/.installed

bench: $(STAMP) $(BENCH_VENV)/.installed
	$(BIN)/python -m compileall -q src/pe_policy policies  # as an installed wheel would have
	$(BIN)/python benchmarks/run.py --write docs/benchmarks.md --readme README.md

clean:
	rm -rf $(VENV) $(BENCH_VENV) .tools .pytest_cache .mypy_cache .ruff_cache .hypothesis benchmarks/corpus

schemas: $(STAMP)
	$(BIN)/pe-policy schema --write schemas
