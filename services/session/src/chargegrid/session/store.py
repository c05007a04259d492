"""The write side: a unit of work over the sessions and samples of one batch of events.

`SessionStore` works on an open `AsyncSession` so a batch's claim of its event ids, the
session changes, their samples and the outbox rows commit together or not at all. The
sessions a batch touches are read in one query and kept here while the batch's events are
applied to them in memory, and so are the active sessions of the stations where the batch
starts transactions or boots (`load_active`): "what else is active on this station" is
answered from memory, without writing the batch so far and asking again. `flush` writes
the changed rows and inserts every sample of the batch in one executemany. Rows are locked
for update on PostgreSQL, so two replicas during a rebalance never interleave on one
session; SQLite has one writer at a time. Nothing is kept between batches: the database
stays the only state a restarted or rebalanced consumer needs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.session.domain.meter import METER_LOCATIONS, REGISTER, TOTAL_PHASES, Reading
from chargegrid.session.domain.model import ACTIVE, Sample, SessionState
from chargegrid.session.models import SampleRow, SessionRow
from chargegrid.session.sample_insert import SampleValues, sample_insert

STATE_FIELDS = tuple(f.name for f in fields(SessionState) if f.name != "needs_energy_recount")
#: Ids per IN (...) query: keeps SQLite under its bound-parameter limit.
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


class SessionStore:
    def __init__(self, db: AsyncSession) -> None:
        self.db = db
        self._rows: dict[str, SessionRow] = {}
        self._states: dict[str, SessionState] = {}
        self._absent: set[str] = set()
        #: Stations whose every active session (as stored) is in `_states`.
        self._active_known: set[str] = set()
        self._dirty: dict[str, None] = {}
        self._samples: dict[tuple[Any, ...], SampleValues] = {}
        self._insert = sample_insert(db.get_bind().dialect)

    async def load(self, session_ids: Iterable[str]) -> None:
        """Read (and lock) the sessions a batch needs, in as few queries as possible."""
        wanted = [i for i in dict.fromkeys(session_ids) if i not in self._states]
        wanted = [i for i in wanted if i not in self._absent]
        for start in range(0, len(wanted), SAMPLE_CHUNK):
            chunk = wanted[start : start + SAMPLE_CHUNK]
            query = select(SessionRow).where(SessionRow.id.in_(chunk)).with_for_update()
            for row in (await self.db.execute(query)).scalars():
                self._remember(row)
            self._absent.update(i for i in chunk if i not in self._states)

    async def load_active(self, station_ids: Iterable[str]) -> None:
        """Read (and lock) every active session of these stations, in as few queries as
        possible; `active_of_station` then answers for them from memory."""
        wanted = [s for s in dict.fromkeys(station_ids) if s not in self._active_known]
        for start in range(0, len(wanted), SAMPLE_CHUNK):
            chunk = wanted[start : start + SAMPLE_CHUNK]
            query = (
                select(SessionRow)
                .where(SessionRow.station_id.in_(chunk), SessionRow.status == ACTIVE)
                .with_for_update()
            )
            for row in (await self.db.execute(query)).scalars():
                self._remember(row)
            self._active_known.update(chunk)

    def _remember(self, row: SessionRow) -> SessionState:
        state = self._states.get(row.id)
        if state is None:
            self._rows[row.id] = row
            state = self._states[row.id] = state_of(row)
        return state

    async def get(self, session_id: str) -> SessionState | None:
        if session_id not in self._states and session_id not in self._absent:
            await self.load([session_id])
        return self._states.get(session_id)

    def save(self, state: SessionState) -> None:
        """Keep `state` to be written at the next flush."""
        self._states[state.id] = state
        self._absent.discard(state.id)
        self._dirty[state.id] = None

    def add_samples(self, session_id: str, samples: Iterable[Sample]) -> None:
        """Queue samples; a reading already stored or queued (same instant, measurand,
        phase, location) is kept as first received."""
        queued = self._samples
        for s in samples:
            key = (session_id, s.at, s.measurand, s.phase, s.location)
            if key not in queued:
                queued[key] = (
                    session_id,
                    s.at,
                    s.measurand,
                    s.phase,
                    s.unit,
                    s.value,
                    s.context,
                    s.location,
                )

    async def flush(self) -> None:
        """Write changed sessions, then insert queued samples (they reference the rows)."""
        for session_id in self._dirty:
            row = self._rows.get(session_id)
            if row is None:
                row = self._rows[session_id] = SessionRow()
                self.db.add(row)
            state = self._states[session_id]
            for name in STATE_FIELDS:
                setattr(row, name, getattr(state, name))
        self._dirty.clear()
        await self.db.flush()
        values, self._samples = list(self._samples.values()), {}
        await self._insert.run(self.db, values)

    async def active_of_station(self, station_id: str) -> list[SessionState]:
        """The station's active sessions, as this batch has left them so far: those stored
        (read once per station) and those the batch opened, less those it closed."""
        if station_id not in self._active_known:
            await self.load_active([station_id])
        active = [
            state
            for state in self._states.values()
            if state.station_id == station_id and state.status == ACTIVE
        ]
        return sorted(active, key=lambda state: state.id)

    async def register_readings(self, session_id: str) -> list[Reading]:
        """Every stored total register reading of the session (queued ones too), in time
        order."""
        await self.flush()
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
