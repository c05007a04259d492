"""A batch of events in one transaction decides what the same events one at a time decide."""

from __future__ import annotations

from sqlalchemy import func, select

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.migrations import upgrade
from chargegrid.session.api.queries import SessionFilter, list_sessions
from chargegrid.session.app import MIGRATIONS
from chargegrid.session.handlers import SessionEvents
from chargegrid.session.models import SampleRow
from chargegrid.session.outbox import Outbox
from tests.integration.session.builders import (
    FakeClock,
    again,
    booted,
    ended,
    power,
    register,
    started,
    updated,
)
from tests.integration.session.conftest import Database


def messy_streams() -> list[Envelope]:
    """Two stations' events interleaved: late readings, a duplicate, a reboot, a stop."""
    first = updated(10, register(10, 2000), power(10, 7000))
    return [
        started(0, meter_start=1000),
        started(0, tx_id="7", station="CP-2", meter_start=500),
        first,
        updated(5, register(5, 1500), tx_id="7", station="CP-2"),
        updated(7, register(7, 1400)),  # older than the newest reading: a recount
        again(first),
        updated(12, register(12, 1900), tx_id="7", station="CP-2"),
        booted(15, station="CP-2"),
        ended(20, 3000, register(20, 3000)),
    ]


async def _apply_in(url: str, batches: list[list[Envelope]]) -> tuple[list[tuple], list[str], int]:
    """(sessions, outbox kinds, sample count) after applying `batches` to a fresh database."""
    engine = create_engine(url)
    await upgrade(engine, MIGRATIONS)
    sessions = session_factory(engine)
    clock = FakeClock()
    events = SessionEvents(sessions, Outbox(EnvelopeFactory("t", clock=clock)), clock)
    for batch in batches:
        await events.apply(batch)
    async with sessions() as db:
        states, _ = await list_sessions(db, SessionFilter(), 10, None)
        samples = int(await db.scalar(select(func.count()).select_from(SampleRow)) or 0)
    kinds = [kind for kind, _ in await Database(engine, sessions).outbox()]
    await engine.dispose()
    figures = [(s.id, s.status, s.energy_wh, s.stop_reason, s.peak_power_w) for s in states]
    return sorted(figures), kinds, samples


async def test_one_batch_decides_what_the_same_events_one_at_a_time_decide(
    database_url: str, sqlite_url: str
) -> None:
    stream = messy_streams()
    one_by_one = await _apply_in(sqlite_url, [[envelope] for envelope in stream])
    in_one_batch = await _apply_in(database_url.replace("test.db", "batch.db"), [stream])

    assert in_one_batch == one_by_one
    figures, kinds, samples = in_one_batch
    assert figures == [
        ("CP-1:42", "completed", 2000.0, "Local", 7000.0),  # 1000, 1400 (late), 2000, 3000
        ("CP-2:7", "interrupted", 1400.0, "Reboot", 0.0),
    ]
    assert sorted(kinds) == ["closed", "closed", "opened", "opened"]
    assert samples == 6  # the duplicate's readings are stored once


async def test_a_redelivered_batch_changes_nothing(db: Database, events: SessionEvents) -> None:
    stream = messy_streams()
    await events.apply(stream)
    emitted = await db.outbox()
    await events.apply([again(envelope) for envelope in stream])
    assert await db.outbox() == emitted


async def test_the_publisher_is_woken_only_by_batches_that_decided_an_event(
    db: Database, events: SessionEvents
) -> None:
    wakes: list[int] = []
    events.after_commit = lambda: wakes.append(1)

    await events.apply([started(0, meter_start=1000)])
    await events.apply([updated(0.1, register(0.1, 1010)), updated(0.2, register(0.2, 1020))])

    assert len(wakes) == 1  # the opened; readings within update_interval_s decide nothing
    assert [kind for kind, _ in await db.outbox()] == ["opened"]
