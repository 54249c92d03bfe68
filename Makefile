# Two commands for a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_ENV := DJANGO_SETTINGS_MODULE=server.test_settings

.PHONY: run reset-demo test test-deep lint install install-dev clean bench mutate

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
# A developer's checkout: the dev tools, and a .env that turns debug on, so that a plain
# `manage.py makemigrations --check` (or shell, check) works without exporting anything.
install-dev: $(VENV)/.installed-dev .env

.env:
	printf 'DJANGO_DEBUG=1\n' > .env

# Debug is on for `make run` even when .env (say, a copy of .env.example) turns it off.
run: install .env
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=1 $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Docs:   http://$(HOST):$(PORT)/api/docs/   (OpenAPI schema: /api/schema/)"
	@echo "Auth:   http://$(HOST):$(PORT)/api/v1/auth/token/   (POST email + password)"
	@echo "Admin:  http://$(HOST):$(PORT)/admin/"
	@echo ""
	DJANGO_DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

# Deletes what the demo accounts own and seeds it again, dated from today (seed_demo --reset);
# other accounts' data stays. Then `make run` serves it.
reset-demo: install .env
	DJANGO_DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DJANGO_DEBUG=1 $(BIN)/python manage.py seed_demo --reset

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The suite runs in TEST_WORKERS processes (pytest-xdist; 0 for one process, as a debugger
# wants): each has its own test database, and the controller checks the errors every worker
# saw against the schema (server/tests/session_report.py).
TEST_WORKERS ?= 2

# Coverage leaves out the code marked as the other database's only (pyproject.toml).
OTHER_VENDOR = $(if $(filter postgres%,$(DATABASE_URL)),sqlite,postgresql)

test: lint
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	COVERAGE_OTHER_VENDOR=$(OTHER_VENDOR) $(TEST_ENV) $(BIN)/pytest -n $(TEST_WORKERS) --cov --cov-branch --cov-report=term --cov-fail-under=90 $(if $(wildcard /usr/bin/chromium),,-m "not browser") $(PYTEST_ARGS)

# The deep schemathesis run (marker schemathesis_deep, which `make test` deselects): every
# operation with examples, the coverage phase and 200+ generated cases, then the state
# machine over the schema's links. CI runs it on PostgreSQL (DATABASE_URL).
test-deep: install-dev
	SCHEMATHESIS_DEEP=1 $(TEST_ENV) $(BIN)/pytest -m schemathesis_deep server/tests/test_schemathesis.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) staticfiles .coverage htmlcov mutants

# Mutation testing of the isolation core with mutmut (pyproject [tool.mutmut]); not in CI:
# it takes a while on 2 cores (docs/testing.md has the figures and the survivors).
mutate: install-dev
	rm -rf mutants
	MUTATION_RUN=1 $(TEST_ENV) $(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

# Benchmark on the local PostgreSQL: seeds two data sets once (1,000,000 and 10,000
# transactions, same user shape), migrates them when they exist, then measures
# (docs/performance.md). A data set seeded before issue 16's advisers (no
# bench-adviser-2000) is seeded again.
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
BENCH_ENV := DJANGO_DEBUG=1

bench: install
	@for spec in "budget_bench_1m:" "budget_bench_10k:--transactions 10000"; do \
	  db=$${spec%%:*}; extra=$${spec#*:}; \
	  if ! psql "$(BENCH_PG)/$$db" -Atc "select 1 from accounts_user where email = 'bench-adviser-2000@bench.example'" 2>/dev/null | grep -q 1; then \
	    echo "Seeding $$db (a few minutes for 1M rows)"; \
	    psql "$(BENCH_PG)/postgres" -qc "DROP DATABASE IF EXISTS $$db" && \
	    psql "$(BENCH_PG)/postgres" -qc "CREATE DATABASE $$db" && \
	    DATABASE_URL=$(BENCH_PG)/$$db $(BENCH_ENV) $(BIN)/python manage.py migrate --noinput -v0 && \
	    DATABASE_URL=$(BENCH_PG)/$$db $(BENCH_ENV) $(BIN)/python manage.py seed_bench $$extra || exit 1; \
	  else \
	    DATABASE_URL=$(BENCH_PG)/$$db $(BENCH_ENV) $(BIN)/python manage.py migrate --noinput -v0 || exit 1; \
	  fi; \
	done
	$(BIN)/python -m bench.run --db-1m $(BENCH_PG)/budget_bench_1m --db-10k $(BENCH_PG)/budget_bench_10k
