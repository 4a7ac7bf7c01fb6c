# Ruang Tanya: `make run` starts the service with demo data, `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed
# axe-core, which the browser tests inject into pages (package.json); npm ci writes this file.
NODE_STAMP := node_modules/.package-lock.json

.PHONY: run test test-embedded test-scaleout install browser-tools demo-data messages bench lint clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "Could not create a virtual environment: on Debian, apt-get install python3.11-venv"; exit 1; }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	.ci/ensure-test-tools
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

browser-tools: $(NODE_STAMP)

demo-data: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo

run: demo-data
	@echo ""
	@echo "  Ruang Tanya is starting on http://$(HOST):$(PORT)/"
	@echo "    demo library page (widget): http://$(HOST):$(PORT)/demo/"
	@echo "    librarian dashboard:        http://$(HOST):$(PORT)/dashboard/"
	@echo "    transcripts:                http://$(HOST):$(PORT)/staff/transcripts/"
	@echo "    admin:                      http://$(HOST):$(PORT)/admin/"
	@echo "    librarian login: pustakawan / tanya-demo-2026    admin login: admin / admin-demo-2026"
	@echo ""
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) --ping-interval 20 --ping-timeout 30 chatserver.asgi:application

# The whole suite on the embedded default (SQLite, in-process layer, browser tests included),
# then again on PostgreSQL + Redis (skipped, with the reason, when they are not reachable).
test: test-embedded test-scaleout

test-embedded: install browser-tools
	.ci/ensure-test-tools
	$(PY) -m pytest

test-scaleout: install
	DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ruangtanya} \
	REDIS_URL=$${TEST_REDIS_URL:-redis://127.0.0.1:6379/0} \
	CHANNEL_LAYER_PREFIX=rt:test DB_CONN_MAX_AGE=0 \
	$(PY) -m pytest -m "not browser"

messages: install
	$(PY) manage.py makemessages -l id -l en --ignore=.venv --ignore=tests --ignore=node_modules
	$(PY) manage.py makemessages -d djangojs -l id -l en --ignore=.venv --ignore=tests --ignore=node_modules
	$(PY) manage.py compilemessages --ignore=.venv

bench: install
	$(PY) bench/relay.py --help

lint: install
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) node_modules db.sqlite3* .test-db.sqlite3* .pytest_cache
