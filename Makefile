# Two commands do all set-up on a fresh machine:
#   make demo   - create .venv, install, load the demo into ./var/compliance.db (SQLite)
#   make test   - create/use .venv and run the whole suite, ruff and mypy
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@mkdir -p var
	@if [ -e var/compliance.db ]; then echo "var/compliance.db exists: keeping it (make clean to start over)"; \
	else $(BIN)/compliance demo; fi

lint: $(STAMP)
	$(BIN)/ruff check domain application infrastructure interfaces projections tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest tests

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf var/compliance.db var/compliance.db-wal var/compliance.db-shm
