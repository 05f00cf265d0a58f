# Removal Desk. Two commands do all set-up on a fresh machine:
#   make run    the whole system (site, worker, beat, demo data) on SQLite + filesystem broker
#   make test   the whole test suite on PostgreSQL and Redis (127.0.0.1 defaults); installs
#               chromium, gettext and axe-core first when they are missing

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000

export TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export TEST_BROKER_URL ?= redis://127.0.0.1:6379/15
# Test processes (pytest-xdist): each has its own database (test_test_gw0, ...) and Redis
# database (15, 14, ...: tests/settings.py). 1 runs the suite in this process.
TEST_PROCESSES ?= 2

.PHONY: run test test-deps lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The maintainers' toolkit (toolkit/, no Django) first: the server imports its hashing code;
# with its Dask extra, which its tests run a LocalCluster with.
$(VENV)/.installed: pyproject.toml toolkit/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e "./toolkit[dask]" -e ".[dev]"
	touch $@

run: $(VENV)/.installed
	PORT=$(PORT) $(BIN)/python scripts/run_all.py

# chromium, gettext and axe-core, installed when missing (quick and silent when present).
test-deps:
	bash scripts/test_deps.sh

test: $(VENV)/.installed test-deps
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) $(BIN)/pytest $(if $(filter-out 1,$(TEST_PROCESSES)),-n $(TEST_PROCESSES) --dist load) $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy config core registry requests_app partners toolkit/removal_desk_toolkit

bench: $(VENV)/.installed
	$(BIN)/python -m bench

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
