"""A transaction id the gateway waits for is answered over gRPC while the consumer is still
applying a large batch, not after it (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.api.session.v1 import session_pb2_grpc as pb_grpc
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.platform.grpc import GrpcServer, Role, TokenRegistry, create_channel
from chargegrid.session.api.servicer import SERVICE_NAME, ApiDeps, SessionsService
from chargegrid.session.handlers import SessionEvents
from chargegrid.session.ids import TransactionIds
from chargegrid.session.outbox import Outbox
from chargegrid.session.watch import SessionHub
from tests.integration.session.builders import T0, register, started, updated
from tests.integration.session.conftest import Database

STATIONS, UPDATES = 20, 100


class CountingClock:
    """The time, and how often the handlers asked for it: once per transaction fact applied.

    Each call also takes half a millisecond (as a slower database would), so that the batch
    lasts a second or more and "answered before its end" holds on a loaded machine too."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> datetime:
        self.calls += 1
        time.sleep(0.0005)
        return T0


def a_big_batch() -> list[Envelope]:
    batch = [started(0, tx_id="1", station=f"CP-{n}") for n in range(STATIONS)]
    for minute in range(1, UPDATES + 1):
        for n in range(STATIONS):
            reading = register(minute, 1000 + minute * 10)
            batch.append(updated(minute, reading, tx_id="1", station=f"CP-{n}"))
    return batch


@pytest.fixture
async def served(db: Database, tmp_path: Path) -> AsyncIterator[tuple[Any, SessionEvents, Any]]:
    clock = CountingClock()
    events = SessionEvents(db.sessions, Outbox(EnvelopeFactory("t", clock=clock)), clock)
    registry = TokenRegistry(tmp_path / "tokens.json")
    token = registry.add("gateway", Role.SERVICE)
    server = GrpcServer("127.0.0.1", 0, registry)
    deps = ApiDeps(db.sessions, TransactionIds(db.sessions), SessionHub())
    server.add(pb_grpc.add_SessionsServicer_to_server, SessionsService(deps), SERVICE_NAME)
    port = await server.start()
    channel = create_channel(f"127.0.0.1:{port}", token=token, max_attempts=1)
    yield pb_grpc.SessionsStub(channel), events, clock
    await channel.close()
    await server.stop(0.2)


async def test_a_transaction_id_is_answered_while_a_big_batch_is_being_applied(
    served: tuple[Any, SessionEvents, CountingClock],
) -> None:
    stub, events, clock = served
    request = pb.AllocateTransactionIdRequest(station_id="CP-X", connector_id=1)
    await stub.AllocateTransactionId(request)  # this replica's block is reserved
    batch = a_big_batch()

    applying = asyncio.create_task(events.apply(batch))
    while clock.calls < 100 and not applying.done():
        await asyncio.sleep(0)
    reply = await stub.AllocateTransactionId(request, timeout=10)
    applied_when_answered = clock.calls
    await applying

    assert reply.transaction_id > 0
    assert applied_when_answered < len(batch)  # answered before the batch's last event
