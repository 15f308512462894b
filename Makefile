# The two commands of README.md. Both create .venv with the machine's python3 (3.10 or newer) and install
# what they need into it, so they work on a fresh machine with only Python, git and make.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
DEMO_RUNS ?= 6

.PHONY: demo test lint bench clean services screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $@

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[server,coverage]" pytest pytest-xdist
	touch $@

## make demo: run the example project's suite several times with telemetry, send the runs to a local
## `suitescope serve`, and print the dashboard's URL (the server runs until Ctrl-C).
demo: $(VENV)/.demo-installed
	DEMO_RUNS=$(DEMO_RUNS) BIN=$(BIN) ./scripts/demo.sh

## make test: lint, type-check, make sure PostgreSQL and Redis are up, and run the whole test suite.
test: $(VENV)/.dev-installed lint services
	$(BIN)/python -m pytest -n 2

services:
	./scripts/services.sh

## make screenshots: the browser tests, keeping their screenshots of every page in docs/screenshots/.
screenshots: $(VENV)/.dev-installed
	SUITESCOPE_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/browser -q

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples
	$(BIN)/mypy

## make bench: the benchmarks of tests/bench/ (collector: overhead, queries, connections, runners, coverage;
## server: ingest, reads, analysis, pages; many minutes).
bench: $(VENV)/.dev-installed
	$(BIN)/suitescope bench overhead
	$(BIN)/suitescope bench queries
	$(BIN)/suitescope bench connections
	$(BIN)/suitescope bench runners
	$(BIN)/suitescope bench coverage
	$(BIN)/suitescope bench ingest
	$(BIN)/suitescope bench reads
	$(BIN)/suitescope bench analysis
	$(BIN)/suitescope bench pages

clean:
	rm -rf $(VENV) .telemetry examples/shop/.telemetry .mypy_cache .ruff_cache .pytest_cache
