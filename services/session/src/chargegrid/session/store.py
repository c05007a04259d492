"""The write side: sessions and their samples inside the caller's transaction.

`SessionStore` works on an open `AsyncSession` so a handler's claim of the event id, the
session change, its samples and its outbox rows commit together or not at all. Rows are
locked for update on PostgreSQL, so the transaction and station consumers (or two replicas
during a rebalance) never interleave on one session; SQLite serialises writers itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.session.domain.meter import METER_LOCATIONS, REGISTER, TOTAL_PHASES, Reading
from chargegrid.session.domain.model import ACTIVE, Sample, SessionState
from chargegrid.session.models import SampleRow, SessionRow

STATE_FIELDS = tuple(f.name for f in fields(SessionState) if f.name != "needs_energy_recount")
#: Rows per INSERT: keeps SQLite under its bound-parameter limit.
SAMPLE_CHUNK = 500


def state_of(row: SessionRow) -> SessionState:
    return SessionState(**{name: getattr(row, name) for name in STATE_FIELDS})


def sample_of(row: SampleRow) -> Sample:
    return Sample(
        at=row.timestamp,
        measurand=row.measurand,
        value=row.value,
        phase=row.phase,
        unit=row.unit,
        context=row.context,
        location=row.location,
    )


def _sample_values(session_id: str, samples: Iterable[Sample]) -> list[dict[str, Any]]:
    unique: dict[tuple[Any, ...], dict[str, Any]] = {}
    for s in samples:
        key = (s.at, s.measurand, s.phase, s.location)
        unique.setdefault(
            key,
            {
                "session_id": session_id,
                "timestamp": s.at,
                "measurand": s.measurand,
                "phase": s.phase,
                "unit": s.unit,
                "value": s.value,
                "context": s.context,
                "location": s.location,
            },
        )
    return list(unique.values())


class SessionStore:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db
        self._rows: dict[str, SessionRow] = {}
        self._postgres = db.get_bind().dialect.name == "postgresql"

    async def get(self, session_id: str) -> SessionState | None:
        query = select(SessionRow).where(SessionRow.id == session_id).with_for_update()
        row = (await self.db.execute(query)).scalar_one_or_none()
        if row is None:
            return None
        self._rows[row.id] = row
        return state_of(row)

    async def active_of_station(self, station_id: str) -> list[SessionState]:
        query = (
            select(SessionRow)
            .where(SessionRow.station_id == station_id, SessionRow.status == ACTIVE)
            .order_by(SessionRow.id)
            .with_for_update()
        )
        rows = list((await self.db.execute(query)).scalars())
        self._rows.update((row.id, row) for row in rows)
        return [state_of(row) for row in rows]

    async def save(self, state: SessionState) -> None:
        """Insert or update the row (flushed, so its samples may reference it)."""
        row = self._rows.get(state.id)
        if row is None:
            row = SessionRow()
            self._rows[state.id] = row
            self.db.add(row)
        for name in STATE_FIELDS:
            setattr(row, name, getattr(state, name))
        await self.db.flush()

    async def add_samples(self, session_id: str, samples: Iterable[Sample]) -> None:
        """Store samples; a reading already stored (same instant, measurand, phase,
        location) is kept as first received."""
        values = _sample_values(session_id, samples)
        insert = pg_insert if self._postgres else sqlite_insert
        for start in range(0, len(values), SAMPLE_CHUNK):
            chunk = values[start : start + SAMPLE_CHUNK]
            await self.db.execute(insert(SampleRow).values(chunk).on_conflict_do_nothing())

    async def register_readings(self, session_id: str) -> list[Reading]:
        """Every stored total register reading of the session, in time order."""
        query = (
            select(SampleRow.timestamp, SampleRow.value)
            .where(
                SampleRow.session_id == session_id,
                SampleRow.measurand == REGISTER,
                SampleRow.phase.in_(sorted(TOTAL_PHASES)),
                SampleRow.location.in_(sorted(METER_LOCATIONS)),
            )
            .order_by(SampleRow.timestamp, SampleRow.id)
        )
        return [Reading(at, wh) for at, wh in (await self.db.execute(query)).all()]
