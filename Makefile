# One entry point for each check that humans and CI share.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install system-packages test check bench serve

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed

# redis-server, chromium, node, the SDK toolchains: apt-get installs what a fresh Debian/Ubuntu lacks.
system-packages:
	scripts/system-packages.sh

test: install system-packages
	$(BIN)/pytest
	$(BIN)/pytest -m cluster tests/cluster
	$(MAKE) -C sdks/node test
	$(MAKE) -C sdks/unity test
	$(MAKE) -C sdks/cpp test
	$(MAKE) -C sdks/unreal test

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

serve: install
	$(BIN)/ludex serve

bench: install
	$(BIN)/python -m benchmarks.bench_host
