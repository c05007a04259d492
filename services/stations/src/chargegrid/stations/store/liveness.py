"""A batch's signs of life written in bulk, in one statement each.

`record_seen` is one upsert (executemany) of every station's latest time: a known station's
`last_seen` only ever moves forward, in the database itself, so a re-delivered or late
heartbeat changes nothing and another writer's newer time is never overwritten; life newer
than the last brings back a station swept offline while a pod still holds it (the rule of
`presence.mark_seen`); an unknown station is registered as the policy says, as
`presence.ensure_station` would. `register_stations` registers stations an order-dependent
event is about to touch, keeping any a racing writer stored first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, or_, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.stations.models import StationRow
from chargegrid.stations.store.driver import DriverStatement
from chargegrid.stations.store.stations import new_station

STATIONS = cast(Table, StationRow.__table__)
COLUMNS = tuple(c.key for c in STATIONS.columns)


def _insert(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(STATIONS).values({name: bindparam(name) for name in COLUMNS})


def _seen_upsert(dialect: str) -> Any:
    statement = _insert(dialect)
    newer = statement.excluded.last_seen
    return statement.on_conflict_do_update(
        index_elements=[STATIONS.c.id],
        set_={
            "last_seen": newer,
            "online": case((STATIONS.c.gateway_pod != "", true()), else_=STATIONS.c.online),
        },
        where=or_(STATIONS.c.last_seen.is_(None), STATIONS.c.last_seen < newer),
    )


SEEN = DriverStatement(_seen_upsert)
REGISTER = DriverStatement(lambda dialect: _insert(dialect).on_conflict_do_nothing())


def _new_rows(
    station_ids: Iterable[str], initial_status: str, now: datetime
) -> list[dict[str, Any]]:
    blank = new_station("", initial_status, now)
    template = {c: getattr(blank, c) for c in COLUMNS}
    return [{**template, "id": station_id} for station_id in sorted(set(station_ids))]


async def record_seen(
    session: AsyncSession, seen: Mapping[str, datetime], initial_status: str, now: datetime
) -> None:
    """Move each station's `last_seen` forward to its latest sign of life."""
    rows = _new_rows(seen, initial_status, now)
    for row in rows:
        row["last_seen"] = seen[row["id"]]
    await SEEN.executemany(session, rows)


async def register_stations(
    session: AsyncSession, station_ids: Iterable[str], initial_status: str, now: datetime
) -> None:
    await REGISTER.executemany(session, _new_rows(station_ids, initial_status, now))
