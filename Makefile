# The two commands of the quick start: `make run` and `make test`.
# Each does its own set-up (virtual environment, dependencies, npm packages).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
JS_STAMP := tests/js/node_modules/.installed

.PHONY: run test lint typecheck pytest bench clean

$(PY_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: $(PY_STAMP)
	$(BIN)/opbx realtime

lint: $(PY_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(PY_STAMP)
	$(BIN)/mypy

pytest: $(PY_STAMP) $(JS_STAMP)
	$(BIN)/pytest

test: lint typecheck pytest

bench: $(PY_STAMP)
	$(BIN)/opbx bench --spawn

clean:
	rm -rf $(VENV) tests/js/node_modules .mypy_cache .ruff_cache .pytest_cache
