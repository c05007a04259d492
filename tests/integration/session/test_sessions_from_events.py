"""Sessions built from transaction events on SQLite and PostgreSQL, messy deliveries included."""

from __future__ import annotations

from sqlalchemy import func, select

from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.session.api.queries import find_session
from chargegrid.session.convert import session_message
from chargegrid.session.handlers import SessionEvents
from chargegrid.session.models import SampleRow, SessionRow
from tests.integration.session.builders import (
    FakeClock,
    again,
    at,
    booted,
    ended,
    power,
    register,
    resent,
    sample,
    started,
    updated,
)
from tests.integration.session.conftest import Database, feed


async def session(db: Database, session_id: str = "CP-1:42") -> pb.Session:
    async with db.sessions() as s:
        state = await find_session(s, session_id)
    assert state is not None, f"no session {session_id}"
    return session_message(state)


async def count(db: Database, table: type[SessionRow] | type[SampleRow]) -> int:
    async with db.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(table)) or 0)


def kinds(emitted: list[tuple[str, pb.Session]]) -> list[str]:
    return [kind for kind, _ in emitted]


async def test_a_1_6_session_with_transaction_data_is_completed_once(
    db: Database, events: SessionEvents
) -> None:
    await feed(
        events,
        started(0, meter_start=1000),
        updated(
            10, register(10, 2000), power(10, 7000), sample(10, "Current.Import", 10.1, phase="L1")
        ),
        ended(
            30,
            4000,
            register(20, 3000),
            register(30, 4000, context="Transaction.End"),
            reason="EVDisconnected",
        ),
    )
    found = await session(db)
    assert found.status == pb.SESSION_STATUS_COMPLETED
    assert (found.site_id, found.station_id, found.transaction_id) == ("site-1", "CP-1", "42")
    assert (found.meter_start_wh, found.meter_stop_wh, found.energy_wh) == (1000, 4000, 3000)
    assert (found.peak_power_w, found.stop_reason, found.id_token.id) == (
        7000,
        "EVDisconnected",
        "TAG1",
    )
    assert found.started_at.ToDatetime().replace(tzinfo=at(0).tzinfo) == at(0)
    assert await count(db, SampleRow) == 5
    emitted = await db.outbox()
    assert kinds(emitted) == ["opened", "closed"]
    assert emitted[-1][1].energy_wh == 3000


async def test_a_2x_session_is_built_the_same_way(db: Database, events: SessionEvents) -> None:
    await feed(
        events,
        started(0, meter_start=500, samples=(register(0, 500, context="Transaction.Begin"),)),
        updated(5, register(5, 900), sample(5, "SoC", 41, location="EV")),
        ended(9, 1300, register(9, 1300, context="Transaction.End"), reason="StoppedByEV"),
    )
    found = await session(db)
    assert (found.status, found.energy_wh, found.soc_percent) == (
        pb.SESSION_STATUS_COMPLETED,
        800,
        41,
    )


async def test_a_redelivered_event_changes_nothing(db: Database, events: SessionEvents) -> None:
    first = ended(30, 4000)
    await feed(events, started(0), updated(10, register(10, 2000)), first, again(first))
    await feed(events, again(first))
    assert await count(db, SessionRow) == 1
    assert kinds(await db.outbox()) == ["opened", "closed"]


async def test_a_stop_the_station_sent_twice_closes_once_and_stores_samples_once(
    db: Database, events: SessionEvents
) -> None:
    stop = ended(30, 4000, register(20, 3000), register(30, 4000))
    await feed(events, started(0), stop, resent(stop))
    assert await count(db, SampleRow) == 2
    assert (await session(db)).energy_wh == 3000
    assert kinds(await db.outbox()) == ["opened", "closed"]


async def test_updates_and_the_end_before_the_start_still_make_one_correct_session(
    db: Database, events: SessionEvents
) -> None:
    await feed(
        events, updated(10, register(10, 2000)), ended(30, 4000), started(0, meter_start=1000)
    )
    found = await session(db)
    assert await count(db, SessionRow) == 1
    assert found.started_at.ToDatetime().replace(tzinfo=at(0).tzinfo) == at(0)
    assert found.energy_wh == 3000
    assert found.id_token.id == "TAG1"
    assert kinds(await db.outbox()) == ["opened", "closed"]


async def test_an_end_without_start_creates_an_interrupted_session_from_what_it_carries(
    db: Database, events: SessionEvents
) -> None:
    await feed(events, ended(30, 2600, register(5, 1000), register(30, 2600), reason="Local"))
    found = await session(db)
    assert found.status == pb.SESSION_STATUS_INTERRUPTED
    assert found.started_at.ToDatetime().replace(tzinfo=at(0).tzinfo) == at(5)
    assert (found.energy_wh, found.meter_stop_wh) == (1600, 2600)
    assert kinds(await db.outbox()) == ["opened", "closed"]


async def test_samples_older_than_the_stored_ones_are_counted_in_time_order(
    db: Database, events: SessionEvents
) -> None:
    await feed(
        events,
        started(0, meter_start=1000),
        updated(20, register(20, 3000)),
        updated(10, register(10, 500)),  # a glitch reading that arrives late
        updated(30, register(30, 3500)),
    )
    # 1000 -> 500 (nothing) -> 3000 (+2500) -> 3500 (+500)
    assert (await session(db)).energy_wh == 3000


async def test_messages_queued_offline_arrive_late_with_their_original_times(
    db: Database, events: SessionEvents, clock: FakeClock
) -> None:
    clock.advance(6 * 3600)  # delivered six hours after they happened
    await feed(
        events,
        started(0, offline=True),
        updated(10, register(10, 1800), offline=True),
        ended(20, 2500, offline=True),
    )
    found = await session(db)
    assert found.offline_data
    assert found.ended_at.ToDatetime().replace(tzinfo=at(0).tzinfo) == at(20)
    assert found.energy_wh == 1500


async def test_a_reboot_mid_session_interrupts_it_and_a_later_end_only_completes_the_data(
    db: Database, events: SessionEvents
) -> None:
    await feed(events, started(0), updated(10, register(10, 2000), power(10, 7000)), booted(15))
    interrupted = await session(db)
    assert interrupted.status == pb.SESSION_STATUS_INTERRUPTED
    assert (interrupted.energy_wh, interrupted.meter_stop_wh) == (1000, 2000)
    assert interrupted.stop_reason == "Reboot"

    await feed(events, ended(12, 2300, register(12, 2300), reason="PowerLoss"))
    completed_data = await session(db)
    assert completed_data.status == pb.SESSION_STATUS_INTERRUPTED
    assert (completed_data.energy_wh, completed_data.meter_stop_wh) == (1300, 2300)
    assert completed_data.stop_reason == "PowerLoss"
    assert kinds(await db.outbox()) == ["opened", "closed"]


async def test_a_reboot_leaves_other_stations_and_later_sessions_alone(
    db: Database, events: SessionEvents
) -> None:
    await feed(events, started(0, station="CP-2"), started(20, tx_id="43"), booted(15))
    assert (await session(db, "CP-2:42")).status == pb.SESSION_STATUS_ACTIVE
    assert (await session(db, "CP-1:43")).status == pb.SESSION_STATUS_ACTIVE


async def test_a_meter_that_resets_never_yields_negative_energy(
    db: Database, events: SessionEvents
) -> None:
    await feed(
        events,
        started(0, meter_start=99_000),
        updated(10, register(10, 99_500)),
        updated(20, register(20, 0)),
        updated(30, register(30, 700)),
        ended(40, 600),
    )
    assert (await session(db)).energy_wh == 500 + 700


async def test_updates_are_emitted_at_most_once_per_interval(
    db: Database, events: SessionEvents, clock: FakeClock
) -> None:
    await feed(events, started(0))
    for minute in range(1, 7):
        clock.advance(10)
        await feed(events, updated(minute, register(minute, 1000 + minute * 100)))
    # 60 s of updates every 10 s with a 30 s interval: two updates, then the close.
    await feed(events, ended(7, 1800))
    assert kinds(await db.outbox()) == ["opened", "updated", "updated", "closed"]
