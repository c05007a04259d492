"""Time and id sources, injected so handlers and tests stay deterministic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from chargegrid.platform.bus.envelope import new_event_id


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return new_event_id()


@dataclass(frozen=True)
class Sources:
    clock: Callable[[], datetime] = field(default=utc_now)
    ids: Callable[[], str] = field(default=new_id)
