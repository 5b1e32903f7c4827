# The two commands: `make run` and `make test`. Everything else they need is set up here.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PORT   ?= 8000

.PHONY: setup run test lint bench bench-timers worker beat clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP)

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py deploy_processes
	$(PY) manage.py load_demo
	PROPFLOW_SITE_URL=$${PROPFLOW_SITE_URL:-http://127.0.0.1:$(PORT)} $(PY) manage.py serve 127.0.0.1:$(PORT)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

test: setup lint
	$(PY) -m pytest

bench: setup
	$(PY) bench/step.py

# Needs PostgreSQL and a broker: DATABASE_URL and CELERY_BROKER_URL (see docs/performance.md).
bench-timers: setup
	$(PY) bench/timers.py

# Production-style processes against CELERY_BROKER_URL (see README, "Production").
worker: setup
	$(VENV)/bin/celery -A server worker --loglevel=INFO

beat: setup
	$(VENV)/bin/celery -A server beat --loglevel=INFO

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
