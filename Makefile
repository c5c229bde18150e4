# Two commands matter: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test venv lint typecheck pytest bench evaluate demo migrate clean

$(STAMP): pyproject.toml scripts/find-python.sh
	@set -e; \
	if [ ! -x $(PY) ]; then \
	  python=$$(scripts/find-python.sh); \
	  echo "Creating $(VENV) with $$python"; \
	  "$$python" -m venv $(VENV); \
	fi; \
	$(PY) -m pip install --quiet --upgrade pip; \
	$(PY) -m pip install --quiet -e '.[dev]'; \
	rm -f $(VENV)/.installed-*; touch $@

venv: $(STAMP)

migrate: venv
	@mkdir -p var
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

run: demo
	$(PY) manage.py runserver $(HOST):$(PORT)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: venv
	$(VENV)/bin/mypy .

pytest: venv
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: venv
	@mkdir -p var/bench
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

evaluate: venv
	$(PY) manage.py evaluate

clean:
	rm -rf var/klout.sqlite3* var/bench var/exports
