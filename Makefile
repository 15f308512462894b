# The two commands of README.md. Both create .venv with the machine's python3 (3.10 or newer) and install
# what they need into it, so they work on a fresh machine with only Python, git and make.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
DEMO_RUNS ?= 4

.PHONY: demo test lint bench clean services

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

$(VENV)/.cli-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[cli,coverage]" pytest pytest-xdist
	touch $@

## make demo: run the example project's suite several times with telemetry, then report on the runs.
demo: $(VENV)/.cli-installed
	rm -rf examples/shop/.telemetry
	cd examples/shop && for i in $$(seq 1 $(DEMO_RUNS)); do \
	  ../../$(BIN)/python -m pytest --suitescope --suitescope-cov=shop -q -p no:cacheprovider $$( [ $$i -gt 2 ] && echo "-n 2" ) || true; \
	done
	$(BIN)/suitescope report examples/shop/.telemetry

## make test: lint, type-check, make sure PostgreSQL and Redis are up, and run the whole test suite.
test: $(VENV)/.dev-installed lint services
	$(BIN)/python -m pytest -n 2

services:
	./scripts/services.sh

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples
	$(BIN)/mypy

## make bench: the benchmarks of tests/bench/ (collector: overhead, queries, connections, runners, coverage;
## server: ingest, reads, analysis; many minutes).
bench: $(VENV)/.dev-installed
	$(BIN)/suitescope bench overhead
	$(BIN)/suitescope bench queries
	$(BIN)/suitescope bench connections
	$(BIN)/suitescope bench runners
	$(BIN)/suitescope bench coverage
	$(BIN)/suitescope bench ingest
	$(BIN)/suitescope bench reads
	$(BIN)/suitescope bench analysis

clean:
	rm -rf $(VENV) .telemetry examples/shop/.telemetry .mypy_cache .ruff_cache .pytest_cache
