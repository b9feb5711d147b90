# xm_eval — the two commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the project needs: Pango for WeasyPrint, a CJK font for the
# Chinese PDFs, gettext for the translation catalogue, and for the test suite
# poppler-utils (PDF checks) and Chromium (browser tests, driven by Playwright).
DEB_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk gettext \
	poppler-utils postgresql-client \
	chromium

.PHONY: install system-packages messages run test lint backup restore

install: system-packages $(STAMP) messages

# Compiled catalogues are build output: made from locale/*/django.po on install.
messages: $(STAMP)
	@if ls locale/*/LC_MESSAGES/django.po >/dev/null 2>&1; then \
	  DEBUG=1 $(BIN)/python manage.py compilemessages -v 0 --ignore .venv; fi

system-packages:
	@missing=$$(for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# Install, migrate, seed the demo and serve on 127.0.0.1:8000 (SQLite, in-process tasks).
run: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py seed_demo
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

# Install and run the whole suite: lint, migration check, tests. Uses DATABASE_URL
# and REDIS_URL when set (PostgreSQL + a real Celery worker on Redis in CI).
test: lint
	DEBUG=1 $(BIN)/pytest

# Back up the database (pg_dump custom format, or SQLite's online backup) and the media
# files into BACKUP_DIR (default var/backups) with checksums; keeps the newest BACKUP_KEEP.
backup: $(STAMP)
	DEBUG=$(or $(DEBUG),1) $(BIN)/python manage.py backup

# Restore a backup (BACKUP=var/backups/xm_eval-…; default the newest), after checking it.
restore: $(STAMP)
	DEBUG=$(or $(DEBUG),1) $(BIN)/python manage.py restore $(BACKUP)
