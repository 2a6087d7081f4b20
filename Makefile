# Two commands do all set-up on a fresh machine:
#   make demo   - create .venv, install, load the demo into ./var/compliance.db (SQLite),
#                 then serve the web app and the API on http://127.0.0.1:8000 (Ctrl-C stops)
#   make test   - create/use .venv and run the whole suite, ruff and mypy
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed


.PHONY: install demo demo-data serve test lint typecheck bench coverage clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: demo-data serve

# Only the demo ledger (no server).
demo-data: $(STAMP)
	@mkdir -p var
	@if [ -e var/compliance.db ]; then echo "var/compliance.db exists: keeping it (make clean to start over)"; \
	else $(BIN)/compliance demo; fi

# The web app and the HTTP API on the demo ledger, on 127.0.0.1:8000.
serve: $(STAMP)
	@echo "web app: http://127.0.0.1:8000/login  (demo logins: compliance demo printed them;"
	@echo "         every demo user's password is harbour-ledger-walkthrough)"
	$(BIN)/compliance serve --host 127.0.0.1 --port 8000

lint: $(STAMP)
	$(BIN)/ruff check domain application infrastructure interfaces projections tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# Three workers on two cores: many tests wait (servers starting, real processes killed and
# restarted, SMTP and PostgreSQL round trips), so a third keeps the cores busy; loadfile keeps
# a module's shared store (a demo, a staffed API) in one worker. The e2e tests run the CLI
# in-process (tests/e2e/in_process.py); E2E_CLI_PROCESSES=1 runs every command as a process.
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest tests -n 3 --dist loadfile

# The whole suite under coverage.py, with branch coverage; the `compliance` processes the e2e
# tests start are measured too ([tool.coverage.run] patch = subprocess). Prints the report,
# then the line and branch totals. Takes as long as the suite, and a little longer.
COVERAGE_DIR := var/coverage
coverage: $(STAMP)
	rm -rf $(COVERAGE_DIR) && mkdir -p $(COVERAGE_DIR)
	$(BIN)/coverage run -m pytest tests; status=$$?; \
	$(BIN)/coverage combine -q && \
	$(BIN)/coverage report && \
	$(BIN)/coverage json -q -o $(COVERAGE_DIR)/coverage.json && \
	$(BIN)/python -c "import json, sys; t = json.load(open(sys.argv[1]))['totals']; \
	    print('make coverage: %.1f%% of lines (%d of %d), %.1f%% of branches (%d of %d)' % ( \
	    100 * t['covered_lines'] / t['num_statements'], t['covered_lines'], t['num_statements'], \
	    100 * t['covered_branches'] / t['num_branches'], t['covered_branches'], \
	    t['num_branches']))" $(COVERAGE_DIR)/coverage.json; \
	exit $$status

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf var/compliance.db var/compliance.db-wal var/compliance.db-shm
