# Quill: `make run` serves the site on SQLite; `make test` runs the whole suite through
# Postgres + PgBouncer (transaction mode) + Redis that it starts and stops by itself.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SYSTEM_PACKAGES := postgresql pgbouncer redis-server chromium docker-compose

.PHONY: run test lint stack stack-down clean system-packages

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Quill needs Python 3.11 or newer ($(PYTHON) is older)."; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || \
		{ echo "Could not create a virtualenv: install python3-venv (apt-get install -y python3-venv)."; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

var/secret_key:
	@mkdir -p var
	@$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@
	@chmod 600 $@

run: $(VENV)/.installed var/secret_key
	@SECRET_KEY=$$(cat var/secret_key) QUILL_HTTPS=false $(PY) manage.py migrate --noinput
	@SECRET_KEY=$$(cat var/secret_key) QUILL_HTTPS=false $(PY) manage.py collectstatic --noinput >/dev/null
	@SECRET_KEY=$$(cat var/secret_key) QUILL_HTTPS=false $(PY) manage.py seed_demo
	@echo ""
	@echo "  Quill is running at http://127.0.0.1:$(PORT)/   (Ctrl+C stops it)"
	@echo "  Demo sign-in: demo@quill.example / quill-demo-2026"
	@echo ""
	@SECRET_KEY=$$(cat var/secret_key) QUILL_HTTPS=false HOST=127.0.0.1 PORT=$(PORT) \
		WEB_CONCURRENCY=$${WEB_CONCURRENCY:-2} $(PY) -m gunicorn -c deploy/gunicorn.conf.py blog_project.wsgi

system-packages:
	@bash deploy/system-packages.sh $(SYSTEM_PACKAGES)

# TEST_DATABASE_URL=postgres://... uses that database instead of a throwaway cluster.
test: system-packages $(VENV)/.installed
	@export SECRET_KEY=test-$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(16))') \
		QUILL_HTTPS=false DJANGO_ALLOW_ASYNC_UNSAFE=true; \
	if [ -n "$$TEST_DATABASE_URL" ]; then \
		DATABASE_URL="$$TEST_DATABASE_URL" $(PY) -m pytest $(PYTEST_ARGS); \
	else \
		$(PY) deploy/localstack.py run -- $(PY) -m pytest $(PYTEST_ARGS); \
	fi

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

stack: system-packages $(VENV)/.installed
	$(PY) deploy/localstack.py up --web

stack-down:
	$(PY) deploy/localstack.py down

clean:
	rm -rf $(VENV) var
