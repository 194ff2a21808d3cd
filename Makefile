# Showroom ERP. `make run` serves it on the LAN; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
HOST   ?= 0.0.0.0
PORT   ?= 8000

.PHONY: run test init-db seed-demo bench clean-venv

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.installed
	$(FLASK) init-db
	$(FLASK) serve --host $(HOST) --port $(PORT)

init-db: $(VENV)/.installed
	$(FLASK) init-db

seed-demo: init-db
	$(FLASK) seed-demo

test: $(VENV)/.dev-installed
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench.run_all

clean-venv:
	rm -rf $(VENV)
