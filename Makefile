# The two commands of the quick start: `make run` and `make test`.
# Each does its own set-up: the virtual environment, npm packages, the dashboard build,
# and Debian's Chromium for the browser tests.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
JS_STAMP := tests/js/node_modules/.installed
FE_STAMP := frontend/node_modules/.installed
DASHBOARD := src/opbx/dashboard/static/index.html
FRONTEND_SOURCES := $(shell find frontend -path frontend/node_modules -prune -o -type f -print 2>/dev/null)

DIST ?= dist

.PHONY: run test build lint typecheck frontend-test pytest bench chromium promtool clean

$(PY_STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	cd tests/js && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(FE_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(DASHBOARD): $(FE_STAMP) $(FRONTEND_SOURCES)
	cd frontend && npm run build

# Debian's Chromium drives the browser tests (downloaded browser builds do not work here).
chromium:
	@command -v chromium >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

# Debian's Prometheus package brings promtool, which checks deploy/prometheus-alerts.yml and the dashboard's queries.
promtool:
	@command -v promtool >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus; }

run: $(PY_STAMP) $(DASHBOARD)
	$(BIN)/opbx serve --demo --simulate 8

# A release: the wheel and the sdist, both with the built dashboard inside.
build: $(PY_STAMP) $(DASHBOARD)
	rm -rf build src/opbx.egg-info
	$(BIN)/python -m build --outdir $(DIST) .

lint: $(PY_STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(PY_STAMP)
	$(BIN)/mypy

frontend-test: $(FE_STAMP)
	cd frontend && npm run typecheck && npm test

pytest: $(PY_STAMP) $(JS_STAMP) $(DASHBOARD) chromium promtool
	$(BIN)/pytest

test: lint typecheck frontend-test pytest

bench: $(PY_STAMP)
	$(BIN)/opbx bench --spawn

clean:
	rm -rf $(VENV) tests/js/node_modules frontend/node_modules src/opbx/dashboard/static .mypy_cache .ruff_cache .pytest_cache build dist
