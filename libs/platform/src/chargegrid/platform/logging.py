"""Structured JSON logs (structlog) carrying the station id and trace id when known.

Every service logs one JSON object per line so a log pipeline can index station_id and
trace_id; the libraries' stdlib loggers (aiokafka, alembic, uvicorn, grpc, websockets) go
through the same processors and renderer, so no line has another format.
`CHARGEGRID_LOG_FORMAT=console` renders the same lines for people (the dev stack sets it on a
terminal). Secrets never reach the output: values of keys that name credentials are masked
by a processor, whatever the caller passes.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import MutableMapping
from typing import Any, TextIO, cast

import orjson
import structlog

from chargegrid.platform.log_repeats import RepeatedWarnings
from chargegrid.platform.telemetry import current_trace_id

SENSITIVE_KEYS = frozenset(
    {"password", "passwd", "secret", "token", "authorization", "api_key", "auth", "credentials"}
)
MASK = "***"
#: Libraries whose DEBUG lines dump whole records, frames or SQL parameters (aiokafka logs
#: every record it sends, with its bytes), with the least level they log at whatever
#: LOG_LEVEL says. SQLAlchemy logs every statement at INFO, so WARNING for it (its own
#: default, which it sets only if nobody configured it first).
PAYLOAD_DUMPING_LIBRARIES = {
    "aiokafka": logging.INFO,
    "kafka": logging.INFO,
    "websockets": logging.INFO,
    "grpc": logging.INFO,
    "sqlalchemy": logging.WARNING,
    "asyncpg": logging.WARNING,
    "aiosqlite": logging.WARNING,
}


def _is_sensitive(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in SENSITIVE_KEYS)


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Mask the value of any key that names a credential (password, token, ...)."""
    for key in list(event_dict):
        if key != "event" and _is_sensitive(key):
            event_dict[key] = MASK
    return event_dict


def add_trace_id(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    if "trace_id" not in event_dict:
        trace_id = current_trace_id()
        if trace_id:
            event_dict["trace_id"] = trace_id
    return event_dict


def _dumps(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default or str).decode()


class _CurrentStdout:
    """Writes to whatever sys.stdout is now (a test harness may swap it), not the one at
    configuration time, one whole line at a time: structlog and the stdlib handler write from
    several threads (aiosqlite's worker logs), and two lines must never share one."""

    _lock = threading.RLock()  # reentrant: a signal handler that logs mid-write

    def write(self, text: str) -> int:
        with self._lock:
            written = sys.stdout.write(text)
            sys.stdout.flush()
            return written

    def flush(self) -> None:
        sys.stdout.flush()


def _wants_json(service: str, json: bool | None) -> bool:
    if json is not None:
        return json
    chosen = os.environ.get(f"CHARGEGRID_{service.upper()}_LOG_FORMAT") or os.environ.get(
        "CHARGEGRID_LOG_FORMAT", "json"
    )
    return chosen.strip().lower() != "console"


def configure_logging(service: str, level: str = "INFO", json: bool | None = None) -> None:
    """Configure structlog and the stdlib root logger for one service process.

    `json=None` takes the format from CHARGEGRID_<SERVICE>_LOG_FORMAT or CHARGEGRID_LOG_FORMAT
    (json, the default, or console), like every other setting.
    """
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_dumps)
        if _wants_json(service, json)
        else structlog.dev.ConsoleRenderer()
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_id,
        redact_secrets,
    ]
    handler = logging.StreamHandler(cast(TextIO, _CurrentStdout()))
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    handler.addFilter(RepeatedWarnings())
    logging.basicConfig(level=numeric, handlers=[handler], force=True)
    for library, least in PAYLOAD_DUMPING_LIBRARIES.items():
        logging.getLogger(library).setLevel(max(numeric, least))
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        # One write per line (print() writes the line and its newline apart, and a library
        # logging from another thread, such as aiosqlite's, could land in between).
        logger_factory=structlog.WriteLoggerFactory(file=cast(TextIO, _CurrentStdout())),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str | None = None, **bound: Any) -> Any:
    """A structlog logger, optionally with values bound to every line it writes."""
    logger = structlog.get_logger(name)
    return logger.bind(**bound) if bound else logger


def bind_station(station_id: str) -> None:
    """Tag every log line of the current task (and tasks it starts) with the station id."""
    structlog.contextvars.bind_contextvars(station_id=station_id)


def unbind_station() -> None:
    structlog.contextvars.unbind_contextvars("station_id")
