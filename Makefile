# dksync developer commands. `make test` works on a fresh machine with only python3.11 and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint test demo chaos bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict dksync
	$(BIN)/mypy --strict --platform win32 dksync  # the Windows branches (lock.py) too

# Every test, on 4 workers (the tests wait on sockets and subprocesses more than they compute).
test: lint
	$(BIN)/pytest -q -n 4

demo: $(STAMP)
	$(BIN)/python -m dksync.sandbox.demo

chaos: $(STAMP)
	$(BIN)/pytest -q -m chaos --chaos-long tests/chaos

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
