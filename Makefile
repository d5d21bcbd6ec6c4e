# Two promises of the README: `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast install lint screenshots bench load messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The demo on SQLite with the database revocation store: no Redis needed (set REDIS_URL to use one).
# DEBUG=1 explicitly: the demo's DEBUG is off unless set, and without it the development
# SECRET_KEY (public, in this repository) is refused.
run: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py create_demo_user
	DEBUG=1 $(BIN)/python manage.py runserver 127.0.0.1:8000

# The whole suite, on PostgreSQL and real Redis (see tests/settings.py for the URLs).
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The light loop: SQLite and the database store, no PostgreSQL, Redis or browser (README,
# Development). Tests that need one carry a marker and are left out; `make test` runs them.
FAST_LANE := not redis and not postgres and not browser and not integration
test-fast: $(STAMP)
	$(BIN)/python -m pytest --ds=tests.settings_fast -m "$(FAST_LANE)" $(PYTEST_ARGS)

# Retake the README's screenshots (browser tests, Debian's chromium).
screenshots: $(STAMP)
	AUTHTOKENS_SCREENSHOTS=1 $(BIN)/python -m pytest tests/browser

# Benchmarks against simplejwt, knox and DRF tokens (benchmarks/README.md); about 7 minutes.
# run.sh installs the `bench` extra (the peers, matplotlib, pyinstrument): `dev` has none of it.
bench:
	bash benchmarks/run.sh $(BENCH_ARGS)

# The load test: 16 clients against gunicorn for 60 s; 0 revoked tokens may get in.
load: $(STAMP)
	$(BIN)/python -m tests.load

# Extract authtokens' messages into its catalog, then compile every catalog (needs gettext).
LANGUAGE ?= fr
messages: $(STAMP)
	cd authtokens && DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=.. \
		../$(BIN)/python -P -m django makemessages -l $(LANGUAGE) --add-location=file
	cd authtokens && DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=.. \
		../$(BIN)/python -P -m django compilemessages

lint: $(STAMP)
	$(BIN)/python -m ruff check authtokens project tests benchmarks
	$(BIN)/python -m ruff format --check authtokens project tests
	$(BIN)/python -m mypy

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm .pytest_cache .ruff_cache
