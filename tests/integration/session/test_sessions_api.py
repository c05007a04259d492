"""The Sessions API over real gRPC on SQLite and PostgreSQL: reads, paging, bad input, watch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.api.session.v1 import session_pb2_grpc as pb_grpc
from chargegrid.platform.bus.envelope import set_timestamp
from chargegrid.platform.grpc import GrpcServer, Role, TokenRegistry, create_channel
from chargegrid.session.api import queries
from chargegrid.session.api.servicer import SERVICE_NAME, ApiDeps, SessionsService
from chargegrid.session.handlers import SessionEvents
from chargegrid.session.ids import TransactionIds
from chargegrid.session.watch import SessionHub
from tests.integration.session.builders import (
    FakeClock,
    at,
    ended,
    power,
    register,
    started,
    updated,
)
from tests.integration.session.conftest import Database, feed


@pytest.fixture
async def api(
    db: Database, clock: FakeClock, tmp_path: Path, events: SessionEvents
) -> AsyncIterator[tuple[Any, SessionHub]]:
    registry = TokenRegistry(tmp_path / "tokens.json")
    token = registry.add("operator", Role.SERVICE)
    hub = SessionHub()
    server = GrpcServer("127.0.0.1", 0, registry)
    deps = ApiDeps(
        db.sessions,
        TransactionIds(db.sessions),
        hub,
        end_session=events.end_session,
        clock=clock,
    )
    server.add(pb_grpc.add_SessionsServicer_to_server, SessionsService(deps), SERVICE_NAME)
    port = await server.start()
    channel = create_channel(f"127.0.0.1:{port}", token=token, max_attempts=1)
    yield pb_grpc.SessionsStub(channel), hub
    await channel.close()
    await server.stop(0.2)


async def refused(call: Any, code: grpc.StatusCode, fragment: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    assert info.value.code() == code
    assert fragment in (info.value.details() or "")


async def three_sessions(events: SessionEvents) -> None:
    await feed(
        events,
        started(0, tx_id="1"),
        updated(5, register(5, 1500), power(5, 7000), tx_id="1"),
        ended(10, 2000, tx_id="1"),
        started(20, tx_id="2", token="TAG2"),
        started(30, tx_id="3", station="CP-2"),
    )


async def test_a_session_is_found_by_id_or_by_station_and_transaction(
    api: tuple[Any, SessionHub], events: SessionEvents
) -> None:
    stub, _ = api
    await three_sessions(events)
    by_id = await stub.GetSession(pb.GetSessionRequest(session_id="CP-1:1"))
    by_pair = await stub.GetSession(pb.GetSessionRequest(station_id="CP-1", transaction_id="1"))
    assert by_id == by_pair
    assert (by_id.energy_wh, by_id.status) == (1000, pb.SESSION_STATUS_COMPLETED)


async def test_get_session_refuses_missing_and_unknown_ids(api: tuple[Any, SessionHub]) -> None:
    stub, _ = api
    await refused(
        stub.GetSession(pb.GetSessionRequest(station_id="CP-1")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "station_id and transaction_id",
    )
    await refused(
        stub.GetSession(pb.GetSessionRequest(session_id="CP-9:9")),
        grpc.StatusCode.NOT_FOUND,
        "CP-9:9",
    )


async def test_sessions_are_listed_newest_first_with_filters_and_pages(
    api: tuple[Any, SessionHub], events: SessionEvents
) -> None:
    stub, _ = api
    await three_sessions(events)
    first = await stub.ListSessions(pb.ListSessionsRequest(page=PageRequest(page_size=2)))
    assert [s.id for s in first.sessions] == ["CP-2:3", "CP-1:2"]
    assert first.total == 3
    second = await stub.ListSessions(
        pb.ListSessionsRequest(page=PageRequest(page_size=2, page_token=first.next_page_token))
    )
    assert [s.id for s in second.sessions] == ["CP-1:1"]
    assert second.next_page_token == ""

    async def ids(**filters: Any) -> list[str]:
        reply = await stub.ListSessions(pb.ListSessionsRequest(**filters))
        return [s.id for s in reply.sessions]

    assert await ids(station_id="CP-1") == ["CP-1:2", "CP-1:1"]
    assert await ids(site_id="site-1") == ["CP-1:2", "CP-1:1"]
    assert await ids(id_token="TAG2") == ["CP-1:2"]
    assert await ids(status=pb.SESSION_STATUS_COMPLETED) == ["CP-1:1"]
    since, until = pb.ListSessionsRequest().since, pb.ListSessionsRequest().until
    set_timestamp(since, at(15))
    set_timestamp(until, at(30))
    assert await ids(since=since, until=until) == ["CP-1:2"]


async def test_list_sessions_refuses_bad_pages_statuses_and_windows(
    api: tuple[Any, SessionHub],
) -> None:
    stub, _ = api
    await refused(
        stub.ListSessions(pb.ListSessionsRequest(page=PageRequest(page_size=1001))),
        grpc.StatusCode.INVALID_ARGUMENT,
        "page_size",
    )
    await refused(
        stub.ListSessions(pb.ListSessionsRequest(page=PageRequest(page_token="bogus"))),
        grpc.StatusCode.INVALID_ARGUMENT,
        "page_token",
    )
    await refused(
        stub.ListSessions(pb.ListSessionsRequest(status=7)),  # type: ignore[arg-type]
        grpc.StatusCode.INVALID_ARGUMENT,
        "SessionStatus",
    )
    window = pb.ListSessionsRequest()
    set_timestamp(window.since, at(10))
    set_timestamp(window.until, at(5))
    await refused(stub.ListSessions(window), grpc.StatusCode.INVALID_ARGUMENT, "until")


async def test_active_sessions_by_site_or_station(
    api: tuple[Any, SessionHub], events: SessionEvents
) -> None:
    stub, _ = api
    await three_sessions(events)
    everywhere = await stub.ActiveSessions(pb.ActiveSessionsRequest())
    assert [s.id for s in everywhere.sessions] == ["CP-1:2", "CP-2:3"]
    assert everywhere.total == 2
    on_site = await stub.ActiveSessions(pb.ActiveSessionsRequest(site_id="site-1"))
    assert [s.id for s in on_site.sessions] == ["CP-1:2"]


async def test_active_sessions_beyond_the_cap_say_how_many_there_are(
    api: tuple[Any, SessionHub], events: SessionEvents, monkeypatch: pytest.MonkeyPatch
) -> None:
    stub, _ = api
    await three_sessions(events)
    monkeypatch.setattr(queries, "MAX_ACTIVE", 1)
    capped = await stub.ActiveSessions(pb.ActiveSessionsRequest())
    assert [s.id for s in capped.sessions] == ["CP-1:2"]  # the oldest
    assert capped.total == 2


async def test_meter_samples_come_in_time_order_by_page_and_measurand(
    api: tuple[Any, SessionHub], events: SessionEvents
) -> None:
    stub, _ = api
    await feed(
        events,
        started(0),
        updated(2, register(2, 1200), power(2, 7000)),
        updated(1, register(1, 1100), power(1, 6000)),
        updated(3, register(3, 1300)),
    )
    first = await stub.MeterSamples(
        pb.MeterSamplesRequest(session_id="CP-1:42", page=PageRequest(page_size=3))
    )
    rest = await stub.MeterSamples(
        pb.MeterSamplesRequest(
            session_id="CP-1:42", page=PageRequest(page_size=3, page_token=first.next_page_token)
        )
    )
    values = [s.value for s in [*first.samples, *rest.samples]]
    assert sorted(values[:2]) == [1100, 6000]
    assert values[-1] == 1300
    assert len(values) == 5
    assert rest.next_page_token == ""
    powers = await stub.MeterSamples(
        pb.MeterSamplesRequest(session_id="CP-1:42", measurand="Power.Active.Import")
    )
    assert [s.value for s in powers.samples] == [6000, 7000]
    await refused(
        stub.MeterSamples(pb.MeterSamplesRequest(session_id="CP-1:404")),
        grpc.StatusCode.NOT_FOUND,
        "CP-1:404",
    )
    await refused(
        stub.MeterSamples(pb.MeterSamplesRequest()), grpc.StatusCode.INVALID_ARGUMENT, "session_id"
    )
    await refused(
        stub.MeterSamples(
            pb.MeterSamplesRequest(session_id="CP-1:42", page=PageRequest(page_size=5000))
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "page_size",
    )


async def test_transaction_ids_are_allocated_and_bad_requests_refused(
    api: tuple[Any, SessionHub],
) -> None:
    stub, _ = api
    first = await stub.AllocateTransactionId(pb.AllocateTransactionIdRequest(station_id="CP-1"))
    second = await stub.AllocateTransactionId(pb.AllocateTransactionIdRequest(station_id="CP-2"))
    assert 0 < first.transaction_id < second.transaction_id
    await refused(
        stub.AllocateTransactionId(pb.AllocateTransactionIdRequest()),
        grpc.StatusCode.INVALID_ARGUMENT,
        "station_id",
    )
    await refused(
        stub.AllocateTransactionId(
            pb.AllocateTransactionIdRequest(station_id="CP-1", connector_id=-1)
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "connector_id",
    )


async def test_watch_starts_with_a_snapshot_then_streams_changes_for_its_filter(
    api: tuple[Any, SessionHub], events: SessionEvents
) -> None:
    stub, hub = api
    await three_sessions(events)
    stream = stub.WatchSessions(pb.WatchSessionsRequest(site_id="site-1", snapshot=True))
    snapshot = await stream.read()
    assert (snapshot.kind, snapshot.session.id) == ("snapshot", "CP-1:2")
    for _ in range(50):
        if len(hub):
            break
        await asyncio.sleep(0.02)
    hub.publish(pb.SessionChange(kind="opened", session=pb.Session(id="CP-2:9", station_id="CP-2")))
    hub.publish(pb.SessionChange(kind="closed", session=pb.Session(id="CP-1:2", site_id="site-1")))
    change = await stream.read()
    assert (change.kind, change.session.id) == ("closed", "CP-1:2")
    stream.cancel()


async def test_the_operator_ends_a_lost_session_once_and_bad_requests_change_nothing(
    api: tuple[Any, SessionHub], events: SessionEvents, clock: FakeClock
) -> None:
    stub, _ = api
    await feed(events, started(0))
    clock.now = at(60)
    ended_now = await stub.EndSession(pb.EndSessionRequest(station_id="CP-1", transaction_id="42"))
    assert (ended_now.status, ended_now.stop_reason) == (
        pb.SESSION_STATUS_INTERRUPTED,
        "EndedByOperator",
    )
    assert ended_now.ended_at.ToDatetime().replace(tzinfo=at(0).tzinfo) == at(60)
    await refused(
        stub.EndSession(pb.EndSessionRequest(session_id="CP-1:42")),
        grpc.StatusCode.FAILED_PRECONDITION,
        "already interrupted",
    )
    await refused(
        stub.EndSession(pb.EndSessionRequest(session_id="CP-1:404")),
        grpc.StatusCode.NOT_FOUND,
        "no session",
    )
    await refused(
        stub.EndSession(pb.EndSessionRequest(station_id="CP-1")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "session_id",
    )
