"""After a 2.x boot the station is asked about each session still active there (E14), on
SQLite and PostgreSQL: what it says it lost (not ongoing, nothing queued) is closed
interrupted once; what is ongoing or queued stays; stations offline or without the message
are skipped and counted, and nothing holds up the consumer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

from chargegrid.api.common.v1 import common_pb2 as common
from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.session.handlers import SessionEvents
from chargegrid.session.station_query import (
    StationOffline,
    StatusNotSupported,
    TransactionStatus,
)
from chargegrid.session.transaction_status import TransactionStatusChecks
from tests.integration.session.builders import at, booted, ended, started
from tests.integration.session.conftest import Database, feed
from tests.integration.session.test_sessions_from_events import session

LOST = TransactionStatus(ongoing=False, messages_in_queue=False)
RUNNING = TransactionStatus(ongoing=True, messages_in_queue=False)
QUEUED = TransactionStatus(ongoing=False, messages_in_queue=True)


class FakeStation:
    """Answers GetTransactionStatus per transaction id (or raises what it is given)."""

    def __init__(self, answers: dict[str, TransactionStatus | Exception]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, str]] = []

    async def transaction_status(self, station_id: str, transaction_id: str) -> TransactionStatus:
        self.asked.append((station_id, transaction_id))
        answer = self.answers[transaction_id]
        if isinstance(answer, Exception):
            raise answer
        return answer


def counted(result: str) -> float:
    value = REGISTRY.get_sample_value(
        "chargegrid_session_transaction_status_checks_total", {"result": result}
    )
    return value or 0.0


@pytest.fixture
def station() -> FakeStation:
    return FakeStation({})


@pytest.fixture
async def checks(
    db: Database, events: SessionEvents, station: FakeStation
) -> AsyncIterator[TransactionStatusChecks]:
    made = TransactionStatusChecks(db.sessions, station, events.close_not_ongoing)
    events.after_resumed_boot = made.booted
    workers = asyncio.create_task(made.run())
    yield made
    workers.cancel()
    await asyncio.gather(workers, return_exceptions=True)


async def boot_201(events: SessionEvents, checks: TransactionStatusChecks, minute: float) -> None:
    await feed(events, booted(minute, version=common.OCPP_VERSION_201))
    await asyncio.wait_for(checks.idle(), 5)


async def test_a_transaction_the_station_lost_is_closed_at_the_boot_and_an_ongoing_one_stays(
    db: Database, events: SessionEvents, checks: TransactionStatusChecks, station: FakeStation
) -> None:
    station.answers.update({"42": LOST, "43": RUNNING})
    await feed(events, started(0), started(1, tx_id="43", evse=2))
    await boot_201(events, checks, 10)
    lost, running = await session(db, "CP-1:42"), await session(db, "CP-1:43")
    assert (lost.status, lost.stop_reason) == (pb.SESSION_STATUS_INTERRUPTED, "NotOngoing")
    assert lost.ended_at.ToDatetime().replace(tzinfo=at(0).tzinfo) == at(10)
    assert running.status == pb.SESSION_STATUS_ACTIVE
    assert sorted(station.asked) == [("CP-1", "42"), ("CP-1", "43")]
    # The late Ended of the lost one amends it: still one closed event.
    await feed(events, ended(12, meter_stop=2000))
    closed = [s.id for kind, s in await db.outbox() if kind == "closed"]
    assert closed == ["CP-1:42"]


async def test_a_transaction_with_messages_still_queued_stays_open(
    db: Database, events: SessionEvents, checks: TransactionStatusChecks, station: FakeStation
) -> None:
    station.answers["42"] = QUEUED
    before = counted("queued")
    await feed(events, started(0))
    await boot_201(events, checks, 10)
    assert (await session(db)).status == pb.SESSION_STATUS_ACTIVE
    assert counted("queued") == before + 1


async def test_a_re_delivered_boot_or_a_1_6_one_asks_nothing_and_a_later_start_is_not_asked(
    db: Database, events: SessionEvents, checks: TransactionStatusChecks, station: FakeStation
) -> None:
    station.answers.update({"42": RUNNING, "43": LOST})
    boot = booted(10, version=common.OCPP_VERSION_201)
    await feed(events, started(0), boot, started(11, tx_id="43", evse=2), boot)
    await feed(events, booted(20, station="CP-2"))
    await asyncio.wait_for(checks.idle(), 5)
    assert station.asked == [("CP-1", "42")]
    assert (await session(db, "CP-1:43")).status == pb.SESSION_STATUS_ACTIVE


@pytest.mark.parametrize(
    ("refusal", "result"),
    [(StationOffline("not connected"), "offline"), (StatusNotSupported("x"), "unsupported")],
)
async def test_an_offline_or_not_implementing_station_is_skipped_once_and_counted(
    db: Database,
    events: SessionEvents,
    checks: TransactionStatusChecks,
    station: FakeStation,
    refusal: Exception,
    result: str,
) -> None:
    station.answers.update({"42": refusal, "43": refusal})
    before = counted(result)
    await feed(events, started(0), started(1, tx_id="43", evse=2))
    await boot_201(events, checks, 10)
    assert len(station.asked) == 1  # its other sessions would answer the same
    assert counted(result) == before + 1
    assert (await session(db, "CP-1:42")).status == pb.SESSION_STATUS_ACTIVE
    assert (await session(db, "CP-1:43")).status == pb.SESSION_STATUS_ACTIVE


async def test_a_timed_out_question_leaves_the_session_open_and_is_counted_as_failed(
    db: Database, events: SessionEvents, checks: TransactionStatusChecks, station: FakeStation
) -> None:
    station.answers["42"] = TimeoutError()
    before = counted("failed")
    await feed(events, started(0))
    await boot_201(events, checks, 10)
    assert (await session(db)).status == pb.SESSION_STATUS_ACTIVE
    assert counted("failed") == before + 1


async def test_boots_beyond_the_queue_are_dropped_and_counted_without_blocking_the_handler(
    db: Database, events: SessionEvents, station: FakeStation
) -> None:
    checks = TransactionStatusChecks(db.sessions, station, events.close_not_ongoing, max_pending=1)
    events.after_resumed_boot = checks.booted  # no workers: nothing is taken off the queue
    before = counted("dropped")
    await feed(events, started(0))
    await feed(events, booted(10, version=common.OCPP_VERSION_201))
    await asyncio.wait_for(feed(events, booted(11, version=common.OCPP_VERSION_21)), 5)
    assert counted("dropped") == before + 1
    assert station.asked == []
