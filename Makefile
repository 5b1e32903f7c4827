# The two commands: `make run` and `make test`. Everything else they need is set up here.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PORT   ?= 8000
# Development mode for the commands below that run the site's code; an explicit
# PROPFLOW_DEBUG=0 still wins. (The settings' own default is off: docs/operations.md.)
DEV    := PROPFLOW_DEBUG=$${PROPFLOW_DEBUG:-1}

.PHONY: setup run test lint bench bench-inbox bench-timers bench-load bench-completions serve-prod worker beat clean \
        browser messages

WEB    := server/web
VENDOR := $(WEB)/frontend/node_modules/.package-lock.json
MO     := $(WEB)/locale/zh_Hans/LC_MESSAGES/django.mo

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

# bpmn-js (the case diagram), htmx and the studio's packages, from the npm registry at the versions locked.
$(VENDOR): $(WEB)/frontend/package-lock.json
	cd $(WEB)/frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The process studio's editor and diff pages (bpmn-js's modeler, its properties panel,
# bpmnlint, bpmn-js-differ) bundled by esbuild into frontend/dist/, served as static files;
# rebuilt when the locked packages or the sources change (docs/architecture.md).
FRONTEND := $(WEB)/frontend
BUNDLE   := $(FRONTEND)/dist/.built
$(BUNDLE): $(VENDOR) $(FRONTEND)/build.mjs $(FRONTEND)/src/.bpmnlintrc $(wildcard $(FRONTEND)/src/*)
	cd $(FRONTEND) && node build.mjs
	@touch $@

$(MO): $(WEB)/locale/zh_Hans/LC_MESSAGES/django.po $(STAMP)
	$(DEV) $(PY) manage.py compile_translations

setup: $(STAMP) $(VENDOR) $(BUNDLE) $(MO)

# Debian's Chromium (and CJK fonts, for readable screenshots) for the browser tests; root
# only: without them the browser tests skip, saying why.
BROWSER_PKGS := chromium fonts-noto-cjk
browser:
	@if dpkg -s $(BROWSER_PKGS) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's $(BROWSER_PKGS) for the browser tests"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends $(BROWSER_PKGS) >/dev/null 2>&1 \
	  || { apt-get update -q >/dev/null && \
	       apt-get install -y -q --no-install-recommends $(BROWSER_PKGS) >/dev/null; } \
	  || echo "Could not install $(BROWSER_PKGS): the browser tests may be skipped"; \
	else echo "No $(BROWSER_PKGS) and not root: the browser tests may be skipped"; fi

# Refresh the Chinese catalogue after changing the pages' English strings.
messages: setup
	$(DEV) $(PY) manage.py makemessages -l zh_Hans --no-obsolete --ignore='.venv/*' \
	  --ignore='$(WEB)/frontend/*' --ignore='tests/*' --ignore='bench/*'

run: setup
	$(DEV) $(PY) manage.py migrate --noinput
	$(DEV) $(PY) manage.py deploy_processes
	$(DEV) $(PY) manage.py load_demo
	$(DEV) PROPFLOW_SITE_URL=$${PROPFLOW_SITE_URL:-http://127.0.0.1:$(PORT)} \
	  $(PY) manage.py serve 127.0.0.1:$(PORT)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports

test: setup lint browser
	$(PY) -m pytest

bench: setup
	$(DEV) $(PY) bench/step.py

# The inbox among 100,000 open tasks: DATABASE_URL=postgres://... (see docs/performance.md).
bench-inbox: setup
	$(DEV) $(PY) bench/inbox.py

# Needs PostgreSQL and a broker: DATABASE_URL and CELERY_BROKER_URL (see docs/performance.md).
bench-timers: setup
	$(DEV) $(PY) bench/timers.py

# 50 staff for 180 s through the API against gunicorn: DATABASE_URL=postgres://...
# (docs/performance.md; bench/load.py --help for the flags).
bench-load: setup
	$(PY) bench/load.py

# Completions per second through POST /api/tasks/{id}/complete/ (DATABASE_URL=postgres://...).
bench-completions: setup
	$(PY) bench/completions.py

# The production web server (gunicorn.conf.py; docs/operations.md): set the production
# environment first (README, "Production"), then migrate, deploy and collectstatic.
serve-prod: setup
	PROPFLOW_BIND=$${PROPFLOW_BIND:-127.0.0.1:$(PORT)} $(VENV)/bin/gunicorn server.wsgi

# Production-style processes against CELERY_BROKER_URL (see README, "Production").
worker: setup
	$(DEV) $(VENV)/bin/celery -A server worker --loglevel=INFO

beat: setup
	$(DEV) $(VENV)/bin/celery -A server beat --loglevel=INFO

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache $(WEB)/frontend/node_modules $(FRONTEND)/dist $(MO)
