# The two commands: `make run` (demo on SQLite, no Redis) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PORT ?= 5000
DEMO_ENV := APP_ENV=development PUBLIC_BASE_URL=http://localhost:$(PORT) DATABASE_URL=$${DATABASE_URL:-sqlite:///$(CURDIR)/instance/lapor.db}

.PHONY: run test lock test-faults test-e2e cluster cluster-down test-cluster setup setup-dev translations extract-messages update-messages lint bench bench-micro clean

# Installs come from the hashed lock files (every transitive package pinned, each download checked).
# requirements*.txt are their inputs: after changing one, run `make lock` (tests/unit/test_lock_files.py
# fails while a lock is stale).
$(BIN)/.installed: requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(BIN)/.installed-dev: requirements-dev.lock $(BIN)/.installed
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

## Lock files: requirements.lock (runtime, also the Docker image's) and requirements-dev.lock (tests), with hashes,
## from requirements.txt and requirements-dev.txt. Pins already in a lock are kept; `make lock UPGRADE=1` re-resolves all.
UV_COMPILE = $(BIN)/uv pip compile --quiet --custom-compile-command "make lock" --generate-hashes --universal --python-version 3.11 $(if $(UPGRADE),--upgrade)
lock: $(BIN)/.installed-dev
	$(UV_COMPILE) requirements.txt -o requirements.lock
	$(UV_COMPILE) requirements-dev.txt -c requirements.lock -o requirements-dev.lock

setup: $(BIN)/.installed translations

setup-dev: $(BIN)/.installed-dev translations

translations: $(BIN)/.installed
	$(BIN)/pybabel compile -d translations

extract-messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --width 100 -o translations/messages.pot .

update-messages: extract-messages
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete --width 100
	$(BIN)/python -m app.i18n_catalogs fill-en
	-$(BIN)/python -m app.i18n_catalogs check

## Demo: migrate, sync the regions, seed demo data, print logins, serve http://localhost:$(PORT)
run: setup
	mkdir -p instance
	$(DEMO_ENV) $(FLASK) db upgrade
	$(DEMO_ENV) $(FLASK) demo seed
	$(DEMO_ENV) $(FLASK) run --host 127.0.0.1 --port $(PORT)

## Tests: SQLite by default; TEST_DATABASE_URL and REDIS_URL select PostgreSQL and Redis. TEST_WORKERS processes
## (pytest-xdist; each has its own database and Redis db: REDIS_URL's number + the worker index) and the coverage
## floor of pyproject.toml [tool.coverage] (the run fails below it).
TEST_WORKERS ?= 2
test: setup-dev
	$(BIN)/ruff check app tests benchmarks deploy
	$(BIN)/python -m pytest -m "not e2e and not faults" -n $(TEST_WORKERS) --cov --cov-report=term:skip-covered

## Fault scenarios on real services: needs TEST_DATABASE_URL (PostgreSQL), REDIS_URL and redis-server.
test-faults: setup-dev
	$(BIN)/python -m pytest -m faults tests/faults

## Browser walkthrough (Playwright driving /usr/bin/chromium); screenshots in screenshots/<tenant>/.
## axe-core (accessibility checks on every visited page) comes from the npm registry, pinned in package-lock.json.
test-e2e: setup-dev
	npm ci --no-audit --no-fund
	$(BIN)/python -m pytest -m e2e tests/e2e

## Local production-shaped cluster (README "Production at scale"); as root, installs Debian packages if missing.
cluster: translations
	deploy/cluster/cluster.sh up

cluster-down:
	deploy/cluster/cluster.sh down

## Fault scenarios on a fresh cluster (leader killed mid-burst, a web node killed, the old leader rejoining).
CLUSTER_RUNS ?= 1
test-cluster: setup-dev
	deploy/cluster/cluster.sh up
	$(BIN)/python deploy/cluster/scenarios.py --runs $(CLUSTER_RUNS); rc=$$?; deploy/cluster/cluster.sh down; exit $$rc

lint: setup-dev
	$(BIN)/ruff check app tests benchmarks deploy

## Benchmarks on PostgreSQL + Redis + gunicorn + RQ (see README "Benchmarks"); BENCH_SCALE=0.02 for a quick one.
bench: setup-dev
	$(BIN)/python -m benchmarks.run

bench-micro: setup-dev
	$(BIN)/python -m benchmarks.micro

clean:
	rm -rf $(VENV) instance/lapor.db .pytest_cache
