PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

# What `check --deploy` sees: production settings with stand-in secrets. It reads no database.
DEPLOY_CHECK_ENV := DJANGO_DEBUG=false \
	DJANGO_SECRET_KEY=deploy-check-only-3f9c1a7e5b2d4c6f8a0e1b3d5f7a9c2e4b6d8f0a1c3e5 \
	DJANGO_ALLOWED_HOSTS=critical-path.example \
	DATABASE_URL="$${DATABASE_URL:-sqlite:///deploy-check.sqlite3}"

.PHONY: install run worker serve test lint typecheck check-deploy bench-load

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_course
	$(BIN)/python manage.py create_demo_accounts
	$(BIN)/python manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# A task worker on its own, as production runs it (one or more, each its own process).
worker: install
	$(BIN)/python manage.py db_worker --no-reload

# Production: DEBUG off, secrets and database from the environment, gunicorn on loopback behind
# a TLS-terminating reverse proxy. See config/gunicorn.conf.py for workers and timeouts.
serve: export DJANGO_DEBUG := false
serve: install
	@missing=""; \
	for name in DJANGO_SECRET_KEY DJANGO_ALLOWED_HOSTS DATABASE_URL; do \
	  [ -n "$$(printenv $$name)" ] || missing="$$missing $$name"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make serve: set these environment variables first:$$missing" >&2; exit 1; \
	fi
	$(BIN)/python manage.py check --deploy
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_course
	PORT=$(PORT) exec $(BIN)/gunicorn --config config/gunicorn.conf.py config.wsgi

lint: install
	$(BIN)/ruff check .

# mypy with django-stubs; what it checks is set in pyproject.toml.
typecheck: install
	$(BIN)/mypy

check-deploy: install
	$(DEPLOY_CHECK_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING

test: install lint typecheck check-deploy
	$(BIN)/pytest

# Load benchmark: Locust against `make serve` on a fresh PostgreSQL database (see
# benchmarks/README.md). Options go in LOAD_ARGS, e.g. LOAD_ARGS="--cohorts 500,1000".
bench-load: install
	$(BIN)/python benchmarks/run_load.py $(LOAD_ARGS)
