# edi-bot: `make run` starts the bot, `make test` runs every check. Both build .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint types unit chat migrate bench clean help clienttools playground

help:
	@echo "make run      create .venv, install, migrate the database, start the bot on :3978"
	@echo "make test     create .venv, install, then lint (ruff), types (mypy) and every test"
	@echo "make chat     talk to the bot in this terminal (USER_NAME=... to choose who you are)"
	@echo "make playground  the bot and Microsoft 365 Agents Playground (Teams' emulator) together"
	@echo "make bench    CLI start-up time, turns/s and latency beside a bare botbuilder echo bot, matcher accuracy"
	@echo "make clean    remove .venv, var/ and tests/js/node_modules"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "edi-bot needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/edi-bot db upgrade

run: migrate
	$(BIN)/edi-bot serve

chat: migrate
	$(BIN)/edi-bot chat --user "$(or $(USER_NAME),Terminal User)"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

# Microsoft's tooling for the Teams client tests (tests/js/setup.sh: Node packages by `npm ci`,
# and Node.js and Debian's chromium by apt-get when root). Missing pieces skip those tests,
# except in CI, where they fail.
clienttools:
	@bash tests/js/setup.sh

# Every test has its own database, ports and files, so they run on every core (JOBS=1: one).
unit: $(STAMP) clienttools
	$(BIN)/pytest -n $(or $(JOBS),auto)

test: lint types unit

playground: $(STAMP) clienttools
	$(BIN)/python -m tests.playground $(if $(BOT_PORT),--bot-port $(BOT_PORT)) $(if $(PLAYGROUND_PORT),--port $(PLAYGROUND_PORT))

bench: $(STAMP)
	$(BIN)/python -m bench.cli_start
	$(BIN)/python -m bench.turns
	$(BIN)/python -m bench.intents

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache tests/js/node_modules
