SHELL := /bin/bash
# Outcomes — everything a fresh machine needs is installed from here.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip --disable-pip-version-check -q
SUDO   := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: run test test-fast fuzz lint format bench chaos demo jobs install install-dev chromium clean

run: $(VENV)/.installed ## install on first use, start DB, migrate, seed, run UI + API + jobs
	$(BIN)/python -m app.run

test: $(VENV)/.dev-installed chromium ## lint and run the whole test suite on 2 workers (each file stays on one worker)
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 --dist loadfile

test-fast: $(VENV)/.dev-installed ## lint and run the suite without the browser journeys
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2 --dist loadfile -m "not browser"

fuzz: $(VENV)/.dev-installed ## a longer schemathesis run over the whole API (make test runs a short one)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} $(BIN)/pytest -p no:cacheprovider -n 2 tests/api/test_schemathesis.py

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(VENV)/.dev-installed ## print performance figures (not tests): make bench ARGS="--customers 10000"
	$(BIN)/python -m bench $(ARGS)

chaos: $(VENV)/.dev-installed ## kill outbox workers at random while the fakes fail; print what arrived
	$(BIN)/python -m bench chaos

demo: $(VENV)/.installed ## reseed demo data: make demo ARGS="--customers 500 --reset"
	$(BIN)/python -m data.demo $(ARGS)

jobs: $(VENV)/.installed ## run every job once, synchronously
	$(BIN)/python -m jobs run-once

install: $(VENV)/.installed
install-dev: $(VENV)/.dev-installed

$(VENV)/.installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt 2> >(grep -v "is ignored: it is neither" >&2)
	@touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.installed
	$(PIP) install -r requirements-dev.txt 2> >(grep -v "is ignored: it is neither" >&2)
	@touch $@

chromium: ## Debian's Chromium for the browser tests, installed when missing
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
