"""Sessions a station lost are closed interrupted, on SQLite and PostgreSQL: by a 1.6 boot,
a new transaction on the same outlet, the outlet reported Available or Faulted (once the
grace for a normal Ended is over), or the operator. A 2.x boot alone closes nothing (the
station resumes and reports)."""

from __future__ import annotations

from chargegrid.api.common.v1 import common_pb2 as common
from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.api.station.v1 import events_pb2 as station_ev
from chargegrid.session.domain.model import EndSession
from chargegrid.session.handlers import SessionEvents
from chargegrid.session.lost_metrics import LOST_CLOSED
from tests.integration.session.builders import (
    FakeClock,
    at,
    booted,
    ended,
    register,
    started,
    status,
    updated,
)
from tests.integration.session.conftest import Database, feed
from tests.integration.session.test_sessions_from_events import kinds, session

GRACE_S = 15.0


async def after_the_grace(events: SessionEvents, clock: FakeClock) -> None:
    """The sweeper's round once the grace of every status so far is over."""
    clock.advance(GRACE_S + 1)
    await events.sweep(GRACE_S)


def lost_closed(reason: str) -> float:
    return LOST_CLOSED.labels(reason=reason)._value.get()


async def test_a_1_6_station_rebooting_twice_closes_each_lost_session_once(
    db: Database, events: SessionEvents
) -> None:
    before = lost_closed("Reboot")
    await feed(events, started(0), updated(5, register(5, 1500)), booted(10))
    await feed(events, started(11, tx_id="43"), booted(20), started(21, tx_id="44"))
    await feed(events, booted(10))  # the first boot again: closes nothing, counts nothing
    assert lost_closed("Reboot") - before == 2
    first, second = await session(db, "CP-1:42"), await session(db, "CP-1:43")
    assert (first.status, first.stop_reason, first.energy_wh) == (
        pb.SESSION_STATUS_INTERRUPTED,
        "Reboot",
        500,
    )
    assert (second.status, second.stop_reason) == (pb.SESSION_STATUS_INTERRUPTED, "Reboot")
    assert (await session(db, "CP-1:44")).status == pb.SESSION_STATUS_ACTIVE
    closed = [s.id for kind, s in await db.outbox() if kind == "closed"]
    assert closed == ["CP-1:42", "CP-1:43"]


async def test_a_2_x_boot_leaves_a_session_open_until_its_evse_is_reported_available(
    db: Database, events: SessionEvents, clock: FakeClock
) -> None:
    await feed(events, started(0), booted(10, version=common.OCPP_VERSION_201))
    assert (await session(db)).status == pb.SESSION_STATUS_ACTIVE
    await feed(events, status(11, station_ev.CONNECTOR_STATUS_AVAILABLE))
    await events.sweep(GRACE_S)
    assert (await session(db)).status == pb.SESSION_STATUS_ACTIVE  # within the grace
    await after_the_grace(events, clock)
    closed = await session(db)
    assert (closed.status, closed.stop_reason) == (
        pb.SESSION_STATUS_INTERRUPTED,
        "ConnectorAvailable",
    )
    assert closed.ended_at.ToDatetime().replace(tzinfo=at(0).tzinfo) == at(11)


async def test_a_new_transaction_on_the_same_outlet_closes_the_lost_one_only(
    db: Database, events: SessionEvents
) -> None:
    await feed(events, started(0), started(1, tx_id="50", evse=2), started(5, tx_id="43"))
    lost, other = await session(db, "CP-1:42"), await session(db, "CP-1:50")
    assert (lost.status, lost.stop_reason) == (pb.SESSION_STATUS_INTERRUPTED, "NewTransaction")
    assert other.status == pb.SESSION_STATUS_ACTIVE
    assert (await session(db, "CP-1:43")).status == pb.SESSION_STATUS_ACTIVE


async def test_a_faulted_outlet_closes_its_session_but_other_statuses_do_not(
    db: Database, events: SessionEvents, clock: FakeClock
) -> None:
    await feed(
        events,
        started(0),
        status(2, station_ev.CONNECTOR_STATUS_SUSPENDED_EV),
        status(3, station_ev.CONNECTOR_STATUS_AVAILABLE, evse=2),
        status(4, station_ev.CONNECTOR_STATUS_AVAILABLE, evse=0),
    )
    await after_the_grace(events, clock)
    assert (await session(db)).status == pb.SESSION_STATUS_ACTIVE
    await feed(events, status(5, station_ev.CONNECTOR_STATUS_FAULTED))
    await after_the_grace(events, clock)
    assert (await session(db)).stop_reason == "ConnectorFaulted"


async def test_an_available_sent_before_the_start_but_handled_after_it_closes_nothing(
    db: Database, events: SessionEvents, clock: FakeClock
) -> None:
    await feed(events, started(5), status(4, station_ev.CONNECTOR_STATUS_AVAILABLE))
    await after_the_grace(events, clock)
    assert (await session(db)).status == pb.SESSION_STATUS_ACTIVE


async def test_a_late_stop_of_a_lost_session_amends_it_without_a_second_close(
    db: Database, events: SessionEvents
) -> None:
    await feed(events, started(0, meter_start=1000), booted(10), started(11, tx_id="43"))
    await feed(events, ended(9, 3000, reason="Local"))
    amended = await session(db)
    assert amended.status == pb.SESSION_STATUS_INTERRUPTED
    assert (amended.meter_stop_wh, amended.energy_wh) == (3000, 2000)
    assert amended.ended_at.ToDatetime().replace(tzinfo=at(0).tzinfo) == at(9)
    assert [k for k, s in await db.outbox() if s.id == "CP-1:42"] == ["opened", "closed"]


async def test_the_operator_ends_an_active_session_once(
    db: Database, events: SessionEvents
) -> None:
    await feed(events, started(0), updated(5, register(5, 1700)))
    state, ended_now = await events.end_session(EndSession("CP-1:42", at(30)))
    assert ended_now
    assert state is not None
    assert (state.status, state.stop_reason, state.energy_wh) == (
        "interrupted",
        "EndedByOperator",
        700,
    )
    again_state, again_ended = await events.end_session(EndSession("CP-1:42", at(31)))
    assert not again_ended
    assert again_state is not None
    assert again_state.ended_at == at(30)
    assert await events.end_session(EndSession("CP-1:99", at(31))) == (None, False)
    assert kinds(await db.outbox()) == ["opened", "closed"]


async def test_a_token_learnt_after_the_start_is_published_at_once(
    db: Database, events: SessionEvents
) -> None:
    await feed(events, started(0, token=""), updated(0.1, token="LATE"))
    emitted = await db.outbox()
    assert kinds(emitted) == ["opened", "updated"]
    assert emitted[-1][1].id_token.id == "LATE"


async def test_a_boot_or_free_outlet_handled_before_an_earlier_start_still_closes_it(
    db: Database, events: SessionEvents, clock: FakeClock
) -> None:
    await feed(events, booted(10), started(0), started(12, tx_id="43"))
    assert (await session(db)).stop_reason == "Reboot"
    assert (await session(db, "CP-1:43")).status == pb.SESSION_STATUS_ACTIVE
    await feed(events, status(20, evse=2, station="CP-2"))
    await after_the_grace(events, clock)
    await feed(events, started(15, tx_id="7", station="CP-2", evse=2))
    assert (await session(db, "CP-2:7")).stop_reason == "ConnectorAvailable"
    closed = [s.id for kind, s in await db.outbox() if kind == "closed"]
    assert closed == ["CP-1:42", "CP-2:7"]


async def test_a_2_x_boot_leaves_no_mark_that_would_close_a_resumed_session(
    db: Database, events: SessionEvents
) -> None:
    await feed(events, booted(10, version=common.OCPP_VERSION_201), started(0))
    assert (await session(db)).status == pb.SESSION_STATUS_ACTIVE


async def test_a_normal_end_handled_after_the_available_completes_the_session(
    db: Database, events: SessionEvents, clock: FakeClock
) -> None:
    await feed(events, started(0), status(10, station_ev.CONNECTOR_STATUS_AVAILABLE))
    clock.advance(5)
    await feed(events, ended(9, 2000, reason="EVDisconnected"))
    await after_the_grace(events, clock)
    assert (await session(db)).status == pb.SESSION_STATUS_COMPLETED


async def test_a_start_handled_before_the_grace_is_over_is_closed_by_the_sweep(
    db: Database, events: SessionEvents, clock: FakeClock
) -> None:
    await feed(events, status(10, station_ev.CONNECTOR_STATUS_FAULTED), started(0))
    assert (await session(db)).status == pb.SESSION_STATUS_ACTIVE
    await after_the_grace(events, clock)
    assert (await session(db)).stop_reason == "ConnectorFaulted"


async def test_a_boot_storm_batch_closes_what_its_stations_lost_and_marks_every_boot(
    db: Database, events: SessionEvents
) -> None:
    """One partition batch of many 1.6 boots (the quiet stations' marks written together):
    the station with a running session has it closed, a re-delivered older boot moves no
    mark back, and a start from before its station's boot arriving later is closed too."""
    await feed(events, started(0, station="CP-5"))
    storm = [booted(10, station=f"CP-{n}") for n in range(1, 300)]
    await events.batch([(envelope, None) for envelope in [*storm, booted(3, station="CP-9")]])  # type: ignore[misc]
    assert (await session(db, "CP-5:42")).stop_reason == "Reboot"
    await feed(events, started(5, station="CP-9"), started(12, tx_id="43", station="CP-9"))
    assert (await session(db, "CP-9:42")).stop_reason == "Reboot"
    assert (await session(db, "CP-9:43")).status == pb.SESSION_STATUS_ACTIVE
    await events.batch([(booted(2, station="CP-7"), None)])  # type: ignore[misc]
    await feed(events, started(4, station="CP-7"))
    assert (await session(db, "CP-7:42")).stop_reason == "Reboot"  # the boot at 10 holds
    closed = [s.id for kind, s in await db.outbox() if kind == "closed"]
    assert closed == ["CP-5:42", "CP-9:42", "CP-7:42"]
