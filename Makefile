# ChargeGrid: `make run` starts the whole stack on one machine, `make test` checks everything.
# Both install what is missing first (uv itself included, pinned, into .tools/).

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint typecheck format proto proto-check bench install clean help

help:
	@echo "make run    - the whole stack on this machine (embedded broker, SQLite under var/)"
	@echo "make test   - lint, type checks, generated-code drift check and the whole test suite"
	@echo "make bench  - benchmarks, printing JSON"
	@echo "make proto  - regenerate libs/api from protos/"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(UV) sync --all-packages --frozen
	@touch $@

install: $(VENV)/.synced

# The dev supervisor runs directly (not under `uv run`) so that it is make's own child: when
# make is killed the supervisor gets SIGTERM (parent-death signal) and stops every service.
run: install
	$(VENV)/bin/chargegrid dev

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

format: install
	$(UV) run --frozen ruff format .
	$(UV) run --frozen ruff check --fix .

typecheck: install
	$(UV) run --frozen mypy

proto: install
	$(UV) run --frozen python scripts/gen_protos.py

proto-check: install
	$(UV) run --frozen python scripts/gen_protos.py --check

test: lint typecheck proto-check
	$(UV) run --frozen pytest

bench: install
	@$(UV) run --frozen python -m bench

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache
