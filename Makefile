# Quill: `make run` serves the site on SQLite; `make test` runs the whole suite through
# Postgres + PgBouncer (transaction mode) + Redis that it starts and stops by itself.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
SYSTEM_PACKAGES := postgresql pgbouncer redis-server nginx chromium docker-compose kubectl wrk

.PHONY: run test screenshots lint stack stack-down clean system-packages backup restore fuzz scaleout chaos bench

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Quill needs Python 3.11 or newer ($(PYTHON) is older)."; exit 1; }
	@PYTHON=$(PYTHON) bash deploy/system-packages.sh python3-venv
	$(PYTHON) -m venv $(VENV)

# What `make run` needs, then what the tests need on top; reinstalled when a file changes.
$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

var/secret_key:
	@mkdir -p var
	@$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@
	@chmod 600 $@

# `make run` is production-like (DEBUG off, friendly error pages) on plain http and SQLite,
# with a per-machine secret key kept in var/.
RUN_ENV = SECRET_KEY="$${SECRET_KEY:-$$(cat var/secret_key)}" QUILL_HTTPS="$${QUILL_HTTPS:-false}"

run: $(VENV)/.runtime var/secret_key
	@$(RUN_ENV) $(PY) manage.py migrate --noinput
	@$(RUN_ENV) $(PY) manage.py collectstatic --noinput >/dev/null
	@$(RUN_ENV) $(PY) manage.py seed_demo
	@echo ""
	@echo "  Quill is running at http://127.0.0.1:$(PORT)/   (Ctrl+C stops it)"
	@echo "  Demo sign-in: demo@quill.example / quill-demo-2026"
	@echo "  A job worker runs beside it: its lines (JSON) appear here with the server's."
	@echo ""
	@# gunicorn and a job worker (with the periodic jobs' scheduler), stopped together (deploy/run.py).
	@$(RUN_ENV) HOST=127.0.0.1 PORT=$(PORT) \
		WEB_CONCURRENCY=$${WEB_CONCURRENCY:-2} $(PY) deploy/run.py

system-packages:
	@bash deploy/system-packages.sh $(SYSTEM_PACKAGES)

# TEST_DATABASE_URL=postgres://... uses that database instead of a throwaway cluster.
# PYTEST_ARGS="-m 'not system'" skips the slow system tests (stack, browser, subprocesses).
test: system-packages $(VENV)/.dev
	@export SECRET_KEY=test-$$($(PYTHON) -c 'import secrets; print(secrets.token_hex(16))') \
		QUILL_HTTPS=false; \
	if [ -n "$$TEST_DATABASE_URL" ]; then \
		DATABASE_URL="$$TEST_DATABASE_URL" $(PY) -m pytest $(PYTEST_ARGS); \
	else \
		$(PY) deploy/localstack.py run -- $(PY) -m pytest $(PYTEST_ARGS); \
	fi

# Refreshes the README's screenshots in docs/screenshots/ (the browser test, run as by `make test`).
screenshots:
	@QUILL_SCREENSHOTS_DIR=docs/screenshots $(MAKE) --no-print-directory test \
		PYTEST_ARGS="posts/tests/test_browser.py"

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The type checker's Django plugin imports the settings: DEBUG=true lets them load without a SECRET_KEY.
	DEBUG=true $(VENV)/bin/mypy .
	$(VENV)/bin/djlint templates --lint

# schemathesis over every operation of /api/schema/ (API v1 and the RealWorld API), anonymous and
# signed in, against a throwaway stack through nginx; exits non-zero on any 5xx or schema
# violation. FUZZ_ARGS="--examples 20 --seed 1" passes options (deploy/fuzz.py --help).
fuzz: system-packages $(VENV)/.dev
	$(PY) deploy/fuzz.py $(FUZZ_ARGS)

# Faults injected in turn under bounded load on a throwaway stack (PgBouncer and Redis killed,
# Postgres restarted, gunicorn replaced and SIGTERMed, workers SIGKILLed, 64 slow clients, a job
# worker SIGKILLed mid-job, SMTP down for 10 s); prints a table per fault, exits non-zero when a
# target is missed. A few minutes. The dev requirements: its mail server on loopback is aiosmtpd.
# CHAOS_ARGS="--faults postgres,redis --threads 4" passes options (deploy/chaos.py --help).
chaos: system-packages $(VENV)/.dev
	$(PY) deploy/chaos.py $(CHAOS_ARGS)

# Quill under fixed-duration load (wrk) in its production topology from local binaries, the
# floor beside it; prints the estimated total first, then tables (bench/README.md). Results go to
# bench/results/ (commit them: the history each run is compared with). QUICK=1 is a short run,
# LARGE=1 seeds 1,000 authors and 100,000 stories, PROFILE=bulk py-spies the workers under one
# scenario; BENCH_ARGS="--scenarios bulk,by_id --concurrency 16" passes options (--help).
# Beside the run's file: latest.json, latest.md and latest.png (matplotlib, from bench/requirements.txt).
bench: $(VENV)/.runtime
	@bash deploy/system-packages.sh postgresql pgbouncer redis-server nginx wrk
	@$(PY) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt || \
		echo "Could not install bench/requirements.txt (matplotlib, aiosmtpd): the run goes on without its chart, and mails jobs to the console."
	$(if $(PROFILE),$(PY) -m pip install --quiet --disable-pip-version-check py-spy)
	$(PY) -m bench.run $(if $(filter 1 true yes,$(QUICK)),--quick) $(if $(filter 1 true yes,$(LARGE)),--large) \
		$(if $(PROFILE),--profile $(PROFILE)) $(BENCH_ARGS)

stack: system-packages $(VENV)/.dev
	$(PY) deploy/localstack.py up --web

stack-down:
	$(PY) deploy/localstack.py down

# deploy/k8s/'s topology rehearsed from local binaries: N web replicas, each a gunicorn with its
# own PgBouncer, behind nginx, one Postgres with a deliberately small max_connections; bounded
# load, one replica killed halfway; prints a table, exits non-zero when a check fails.
# SCALEOUT_ARGS="--replicas 6 --duration 30" passes options (deploy/scaleout.py --help).
scaleout: system-packages $(VENV)/.runtime
	$(PY) deploy/scaleout.py $(SCALEOUT_ARGS)

# The running stack's database (pg_dump -Fc) and media folder, to var/backups/quill-<UTC time>/.
backup: $(VENV)/.runtime
	$(PY) deploy/backup.py backup

# Into the running stack, then checked against the backup's manifest.
# ARCHIVE=var/backups/quill-... (default: the newest backup).
restore: $(VENV)/.runtime
	$(PY) deploy/backup.py restore $(ARCHIVE)

clean:
	rm -rf $(VENV) var
