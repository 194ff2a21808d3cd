# Showroom ERP. `make run` serves it on the LAN; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 0.0.0.0
PORT   ?= 8000
# Wheels for a PC with no internet (`make wheelhouse`, tools/wheelhouse.py): a requirements file
# installs from $(WHEELS) when that folder was built from this very file, from PyPI otherwise.
WHEELHOUSE ?= wheelhouse
WHEELS     := $(WHEELHOUSE)/linux_$(shell uname -m)
from_wheels = $(if $(shell cmp -s $(1) $(WHEELS)/$(1) && echo y),--no-index --find-links $(WHEELS))
PIP_FROM     := $(call from_wheels,requirements.txt)
PIP_DEV_FROM := $(call from_wheels,requirements-dev.txt)

.PHONY: run test lint init-db seed-demo bench clean-venv wheelhouse schema

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	@echo "Installing requirements.txt from $(if $(PIP_FROM),$(WHEELS) (no internet needed),PyPI)"
	$(BIN)/pip install --quiet --upgrade pip $(PIP_FROM)
	$(BIN)/pip install --quiet -r requirements.txt $(PIP_FROM)
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	@echo "Installing requirements-dev.txt from $(if $(PIP_DEV_FROM),$(WHEELS) (no internet needed),PyPI)"
	$(BIN)/pip install --quiet -r requirements-dev.txt $(PIP_DEV_FROM)
	touch $@

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# serve picks the server: gunicorn with ERP_WORKERS processes (default: one per core) on Linux and
# macOS, waitress on Windows (docs/CONFIGURATION.md).
run: $(VENV)/.installed
	$(FLASK) init-db
	$(FLASK) serve --host $(HOST) --port $(PORT)

init-db: $(VENV)/.installed
	$(FLASK) init-db

# SEED_ARGS=--history: then five years of generated history into the demo showroom.
seed-demo: init-db
	$(FLASK) seed-demo $(SEED_ARGS)

# The suite runs on every core (pytest-xdist; each worker has its own scratch database). One at a
# time, for a debugger or a single test: `make test PYTEST_WORKERS=0 PYTEST_ARGS='tests/test_x.py'`.
PYTEST_WORKERS ?= auto
test: lint
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# pyflakes, pycodestyle and import order (pyproject.toml [tool.ruff.lint]); the import contracts
# are tests (tests/test_import_contract.py).
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .

# sql/schema.sql: pg_dump of a database that a fresh init-db made (tools/schema_snapshot.py, on the
# tests' server); commit it with every change under sql/ (tests/test_schema_snapshot.py checks).
schema: $(VENV)/.installed
	$(BIN)/python -m tools.schema_snapshot

# `make bench` leaves out the load test and the PDF soak (minutes each, on the real server):
# `make bench BENCH_ARGS='--only load'` or `BENCH_ARGS='--only soak'` (docs/PERFORMANCE.md).
bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)

clean-venv:
	rm -rf $(VENV)

# On a PC with internet: wheels for the showroom PC into $(WHEELHOUSE)/<platform>/ (Linux x86_64
# and Windows amd64, Python 3.11 to 3.14). E.g. WHEELHOUSE_ARGS='--platform here --dev'.
wheelhouse: $(BIN)/python
	$(BIN)/python tools/wheelhouse.py --dest $(WHEELHOUSE) $(WHEELHOUSE_ARGS)
