"""A 1.6 StartTransaction whose event was stored but whose answer was an error, retried by
the station: the retry gets the id of the first attempt, so one session, not a phantom.

The real gateway (routes, ServiceDecisions) talks gRPC to the real Sessions service on SQLite
and PostgreSQL; its producer stores every batch and then, once, fails the StartTransaction's
batch as the restarting broker did (the record is in the log, the station gets InternalError).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.api.session.v1 import session_pb2_grpc as pb_grpc
from chargegrid.api.transaction.v1 import events_pb2 as tx_events
from chargegrid.gateway.app import build_routes
from chargegrid.gateway.decisions import AuthorizationCache, FallbackDecisions
from chargegrid.gateway.publishing import GatewayPublisher
from chargegrid.gateway.registry import ConnectionRegistry
from chargegrid.gateway.server import GatewayServer
from chargegrid.gateway.service_decisions import ServiceDecisions
from chargegrid.gateway.settings import GatewaySettings
from chargegrid.platform.bus import BusUnavailable, EnvelopeFactory
from chargegrid.platform.bus.envelope import set_timestamp
from chargegrid.platform.bus.topics import TRANSACTION_EVENTS
from chargegrid.platform.grpc import GrpcServer, Role, TokenRegistry, create_channel
from chargegrid.session.api.servicer import SERVICE_NAME, ApiDeps, SessionsService
from chargegrid.session.handlers import SessionEvents
from chargegrid.session.ids import TransactionIds
from chargegrid.session.models import SessionRow
from chargegrid.session.watch import SessionHub
from tests.integration.session.builders import at, started
from tests.integration.session.conftest import Database, feed

STATION = "CP-RETRY"
START = {
    "connectorId": 1,
    "idTag": "TAG-1",
    "meterStart": 1200,
    "timestamp": "2026-12-07T10:00:00Z",
}


@dataclass
class StoresThenFails:
    """A producer whose first batch with a transaction start is stored, then refused."""

    stored: list[tuple[str, Envelope]] = field(default_factory=list)
    failed: int = 0

    async def publish_batch(
        self, items: Sequence[tuple[str, Envelope]], timeout_s: float | None = None
    ) -> None:
        self.stored += items
        if not self.failed and any(e.type == "transaction.started" for _, e in items):
            self.failed += 1
            raise BusUnavailable("broker restarting")

    def started_ids(self) -> list[str]:
        return [
            started_of(e).transaction_id
            for topic, e in self.stored
            if topic == TRANSACTION_EVENTS and e.type == "transaction.started"
        ]

    def transaction_envelopes(self) -> list[Envelope]:
        return [e for topic, e in self.stored if topic == TRANSACTION_EVENTS]


def started_of(envelope: Envelope) -> tx_events.TransactionStarted:
    message = tx_events.TransactionStarted()
    message.ParseFromString(envelope.payload.value)
    return message


async def sessions_server(
    db: Database, events: SessionEvents, registry: TokenRegistry
) -> tuple[GrpcServer, ApiDeps, int]:
    server = GrpcServer("127.0.0.1", 0, registry)
    deps = ApiDeps(db.sessions, TransactionIds(db.sessions), SessionHub(), events.end_session)
    server.add(pb_grpc.add_SessionsServicer_to_server, SessionsService(deps), SERVICE_NAME)
    return server, deps, await server.start()


@pytest.fixture
async def gateway_and_sessions(
    db: Database, events: SessionEvents, tmp_path: Path
) -> AsyncIterator[tuple[StoresThenFails, str, SessionEvents]]:
    registry = TokenRegistry(tmp_path / "tokens.json")
    token = registry.add("gateway", Role.SERVICE)
    server, _deps, port = await sessions_server(db, events, registry)
    channel = create_channel(f"127.0.0.1:{port}", token=token, max_attempts=1)
    fallback = FallbackDecisions("accepted", 60, 300, "accepted", AuthorizationCache(60))
    decisions = ServiceDecisions(fallback, None, None, timeout_s=5, session=channel)
    producer = StoresThenFails()
    publisher = GatewayPublisher(producer, EnvelopeFactory("gateway/test"), retry_budget_s=0)  # type: ignore[arg-type]
    settings = GatewaySettings(
        ocpp_host="127.0.0.1", ocpp_port=0, boot_fallback="accepted", require_basic_auth=False
    )
    gateway = GatewayServer(settings, build_routes(), publisher, decisions, ConnectionRegistry())
    await gateway.start()
    yield producer, f"ws://127.0.0.1:{gateway.port}/ocpp/{STATION}", events
    await gateway.stop()
    await channel.close()
    await server.stop(0)


async def call(ws: ClientConnection, unique_id: str, action: str, payload: object) -> list[object]:
    await ws.send(orjson.dumps([2, unique_id, action, payload]).decode())
    return list(orjson.loads(await ws.recv()))


async def sessions_of(db: Database) -> list[SessionRow]:
    async with db.sessions() as session:
        query = select(SessionRow).where(SessionRow.station_id == STATION)
        return list((await session.execute(query)).scalars())


async def test_a_retried_start_gets_the_id_of_the_stored_attempt_and_makes_one_session(
    db: Database, gateway_and_sessions: tuple[StoresThenFails, str, SessionEvents]
) -> None:
    producer, url, events = gateway_and_sessions
    async with connect(url, subprotocols=["ocpp1.6"]) as ws:
        first = await call(ws, "s-1", "StartTransaction", START)
        assert first[0] == 4, first
        assert first[2] == "InternalError", first
        retry = await call(ws, "s-2", "StartTransaction", START)
        assert retry[0] == 3, retry
        transaction_id = retry[2]["transactionId"]  # type: ignore[index]
        stop = {
            "transactionId": transaction_id,
            "meterStop": 5200,
            "timestamp": "2026-12-07T10:30:00Z",
        }
        assert (await call(ws, "s-3", "StopTransaction", stop))[0] == 3
    assert producer.failed == 1
    assert producer.started_ids() == [str(transaction_id)] * 2  # stored twice, one id
    await events.apply(producer.transaction_envelopes())
    sessions = await sessions_of(db)
    assert [(s.transaction_id, s.status, s.energy_wh) for s in sessions] == [
        (str(transaction_id), "completed", 4000.0)
    ]


async def allocate(
    db: Database, events: SessionEvents, registry: TokenRegistry, token: str, meter_start: float
) -> int:
    """One allocation from a freshly started Sessions service (nothing in its memory)."""
    server, _deps, port = await sessions_server(db, events, registry)
    channel = create_channel(f"127.0.0.1:{port}", token=token, max_attempts=1)
    try:
        request = pb.AllocateTransactionIdRequest(
            station_id="CP-1", connector_id=1, id_tag="TAG1", meter_start_wh=meter_start
        )
        set_timestamp(request.started_at, at(0))
        reply = await pb_grpc.SessionsStub(channel).AllocateTransactionId(request)
        return reply.transaction_id
    finally:
        await channel.close()
        await server.stop(0)


async def test_a_start_retried_after_the_session_service_restarted_finds_its_stored_session(
    db: Database, events: SessionEvents, tmp_path: Path
) -> None:
    registry = TokenRegistry(tmp_path / "tokens.json")
    token = registry.add("gateway", Role.SERVICE)
    first = await allocate(db, events, registry, token, 1000.0)
    await feed(events, started(0, str(first), meter_start=1000.0))  # its event was consumed
    assert await allocate(db, events, registry, token, 1000.0) == first
    assert await allocate(db, events, registry, token, 1001.0) != first  # another start
