# syntax=docker/dockerfile:1
# One image per service: docker build --build-arg SERVICE=gateway -t chargegrid-gateway .
# (`make images` builds them all). The image runs `python -m chargegrid.$SERVICE` as uid
# 10001 and needs no writable path but /tmp, so it runs with a read-only root filesystem.
# SERVICE=cli builds the `chargegrid` command (topic Job, `helm test` simulator).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
ARG UV_VERSION=0.13.9
RUN test -n "${SERVICE}" || { echo "build with --build-arg SERVICE=<gateway|stations|...|cli>" >&2; exit 1; }
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
COPY libs/ libs/
COPY services/ services/
# Only the service's own package and what it depends on. Workspace members stay editable
# installs on purpose: a service finds its Alembic migrations next to its sources
# (services/<name>/migrations), so the sources are the installed code.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --package "chargegrid-${SERVICE}" \
 && python -m compileall -q libs services \
 && /app/.venv/bin/python -c "import chargegrid.${SERVICE}"

FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
RUN groupadd --system --gid 10001 chargegrid \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --no-create-home \
        --shell /usr/sbin/nologin chargegrid
# Owned by root and not writable by the service user.
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    CHARGEGRID_VAR_DIR=/tmp/chargegrid \
    SERVICE=${SERVICE}
WORKDIR /app
USER 10001:10001
# `python -m chargegrid.$SERVICE` with the container's arguments appended (e.g. `migrate`);
# exec keeps python as PID 1, so SIGTERM reaches the service and the gateway drains.
ENTRYPOINT ["/bin/sh", "-c", "if [ \"$SERVICE\" = cli ]; then exec chargegrid \"$@\"; fi; exec python -m \"chargegrid.$SERVICE\" \"$@\"", "chargegrid"]
CMD []
