# edi-bot: `make run` starts the bot, `make test` runs every check. Both build .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint types unit chat migrate bench clean help

help:
	@echo "make run      create .venv, install, migrate the database, start the bot on :3978"
	@echo "make test     create .venv, install, then lint (ruff), types (mypy) and every test"
	@echo "make chat     talk to the bot in this terminal (USER_NAME=... to choose who you are)"
	@echo "make bench    measure turns/s and latency against a bare botbuilder echo bot"
	@echo "make clean    remove .venv and var/"

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

unit: $(STAMP)
	$(BIN)/pytest

test: lint types unit

bench: $(STAMP)
	$(BIN)/python -m bench.turns

clean:
	rm -rf $(VENV) var .mypy_cache .pytest_cache .ruff_cache
