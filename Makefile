# CivicQueue: `make run` starts the demo on SQLite; `make test` runs the test suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
HOST   ?= 127.0.0.1
PORT   ?= 5000
APT    := DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends

.PHONY: run test init lint bench clean system-deps browser-deps catalogs extract-messages

# A venv of the runtime requirements: .venv (make run, and the base of the dev venv) and .venv-server (below).
%/.runtime: requirements.txt
	test -x $*/bin/python || $(PYTHON) -m venv $*
	$*/bin/python -m pip install --quiet --upgrade pip
	$*/bin/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# The benchmarks' server processes run from a venv of requirements.txt alone, as in production: the dev venv's
# extra packages would be loaded by the server and counted in its memory (bench/server_proc.py).
SERVER_VENV := .venv-server

# Browser libraries (socket.io-client, axe-core) come from npm; nothing third-party is committed.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Compiled gettext catalogs (.mo) are built from the committed .po files.
catalogs: $(VENV)/.runtime
	@$(VENV)/bin/pybabel compile -d translations -f --statistics >/dev/null

extract-messages: $(VENV)/.runtime
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -o translations/messages.pot --project=CivicQueue --no-location --sort-output .
	$(VENV)/bin/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching

# Debian packages: offline speech and sound for the displays (espeak-ng, sox); fonts for printed tickets
# (DejaVu: Latin and Cyrillic; Noto: Arabic) and libraqm/libfribidi, so Pillow shapes Arabic right-to-left.
# Installed when missing and we are root; otherwise the command to run is printed.
SYSTEM_PACKAGES := espeak-ng sox fonts-dejavu-core fonts-noto-core libraqm0 libfribidi0
system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
	  grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && $(APT) $$missing; \
	  else echo "warning: please run: sudo apt-get install $$missing (speech, sounds and ticket fonts)"; fi; \
	fi

# Debian's Chromium for the browser tests (Playwright drives it; no browser download), and redis-server for the
# cluster tests' private Redis (stopped and restarted by a fault test; the shared one is never touched).
browser-deps: system-deps
	@command -v chromium >/dev/null || { apt-get update -q && $(APT) chromium chromium-driver fonts-dejavu-core; }
	@test -x /usr/bin/redis-server || { [ "$$(id -u)" = 0 ] && apt-get update -q && $(APT) redis-server; } || \
	  echo "warning: please run: sudo apt-get install redis-server (the cluster tests' private Redis)"

init: $(VENV)/.runtime node_modules/.installed catalogs system-deps
	$(PY) -m server init --demo

run: init
	@echo "Demo tokens: instance/demo-tokens.txt   Pages: http://$(HOST):$(PORT)/   API: /api/v1/openapi.json"
	$(PY) -m server run --host $(HOST) --port $(PORT)

test: $(VENV)/.dev node_modules/.installed catalogs browser-deps
	$(PY) -m pytest

lint: $(VENV)/.dev
	$(PY) -m ruff check server tests bench kiosk display counter

# Every benchmark in bench/ (PostgreSQL and redis-server needed), about 16 minutes; writes bench/results.md.
# BENCH_ARGS="--quick" for a smoke run, BENCH_ARGS="--only day,rss" for some of them.
bench: $(VENV)/.dev $(SERVER_VENV)/.runtime node_modules/.installed catalogs
	$(PY) -m bench.suite $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(SERVER_VENV) node_modules instance .pytest_cache tests/_artifacts
