# CivicQueue: `make run` starts the demo on SQLite; `make test` runs the test suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test init lint bench clean

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

init: $(VENV)/.runtime
	$(PY) -m server init --demo

run: init
	@echo "Demo tokens: instance/demo-tokens.txt   API: http://$(HOST):$(PORT)/api/v1/openapi.json"
	$(PY) -m server run --host $(HOST) --port $(PORT)

test: $(VENV)/.dev
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(PY) -m ruff check server tests bench

bench: $(VENV)/.dev
	$(PY) -m bench.api

clean:
	rm -rf $(VENV) instance .pytest_cache
