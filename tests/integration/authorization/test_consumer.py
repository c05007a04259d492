"""Session and boot events through the embedded broker, into a running service."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as session_pb
from chargegrid.api.station.v1.events_pb2 import StationBooted
from chargegrid.api.transaction.v1.events_pb2 import IdToken
from chargegrid.platform.bus import EnvelopeFactory, EventProducer, ProducerConfig
from chargegrid.platform.bus.topics import SESSION_EVENTS, STATION_EVENTS
from chargegrid.platform.grpc import Role
from tests.integration.authorization.conftest import (
    Service,
    ServiceFactory,
    a_token,
    eventually,
    ref,
)

pytestmark = pytest.mark.broker
FAST_GROUP = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 300, "poll_timeout_ms": 100}


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[EventProducer]:
    producer = EventProducer(ProducerConfig(kafka_bootstrap, publish_timeout_s=5))
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def consuming(make_service: ServiceFactory, kafka_bootstrap: str) -> Service:
    service: Service = await make_service(
        consume_events=True,
        kafka_bootstrap_servers=kafka_bootstrap,
        consumer_group=f"authorization-{uuid.uuid4().hex[:8]}",
        consumer_options=FAST_GROUP,
    )
    await eventually(lambda: service.app.consumer is not None, timeout_s=30)
    return service


factory = EnvelopeFactory(source="session/tests")


def a_session(station: str, tx: str, tag: str, status: int, evse: int = 1) -> session_pb.Session:
    return session_pb.Session(
        id=f"{station}:{tx}",
        station_id=station,
        transaction_id=tx,
        evse_id=evse,
        connector_id=evse,
        id_token=IdToken(id=tag, type="IdTag"),
        status=status,  # type: ignore[arg-type]
    )


def started(station: str, tx: str, tag: str, evse: int = 1) -> Envelope:
    """session.opened, as the session service publishes it."""
    session = a_session(station, tx, tag, session_pb.SESSION_STATUS_ACTIVE, evse)
    return factory.wrap("session.opened", station, session_pb.SessionOpened(session=session))


def updated(station: str, tx: str, tag: str = "") -> Envelope:
    session = a_session(station, tx, tag, session_pb.SESSION_STATUS_ACTIVE)
    return factory.wrap("session.updated", station, session_pb.SessionUpdated(session=session))


def ended(station: str, tx: str, tag: str = "") -> Envelope:
    """session.closed, here as a session the station lost."""
    session = a_session(station, tx, tag, session_pb.SESSION_STATUS_INTERRUPTED)
    return factory.wrap("session.closed", station, session_pb.SessionClosed(session=session))


async def _status(service: Service, station: str, tag: str, tx: str = "") -> int:
    reply = await service.stub(Role.SERVICE).Authorize(
        pb.AuthorizeRequest(station_id=station, id_token=tag, purpose="start", transaction_id=tx)
    )
    return reply.status  # type: ignore[no-any-return]


async def test_an_opened_session_makes_its_token_concurrent_until_it_closes(
    consuming: Service, producer: EventProducer
) -> None:
    station, tag = f"CP-{uuid.uuid4().hex[:6]}", f"TAG-{uuid.uuid4().hex[:6]}"
    await consuming.stub().CreateToken(pb.CreateTokenRequest(token=a_token(tag)))
    first = started(station, "tx-1", tag)
    await producer.publish(SESSION_EVENTS, first)
    await eventually(lambda: consuming.app.engine.is_active(station, "tx-1"), timeout_s=30)

    assert await _status(consuming, "CP-OTHER", tag) == pb.AUTHORIZATION_STATUS_CONCURRENT_TX
    assert await _status(consuming, station, tag, tx="tx-1") == pb.AUTHORIZATION_STATUS_ACCEPTED

    # The same event again, and an update without a token, change nothing.
    await producer.publish(SESSION_EVENTS, first)
    await producer.publish(SESSION_EVENTS, updated(station, "tx-1"))
    end = ended(station, "tx-1", tag)
    await producer.publish(SESSION_EVENTS, end)
    await eventually(lambda: not consuming.app.engine.is_active(station, "tx-1"), timeout_s=30)
    assert await _status(consuming, "CP-OTHER", tag) == pb.AUTHORIZATION_STATUS_ACCEPTED

    # A late duplicate of the opened event must not bring the session back.
    await producer.publish(SESSION_EVENTS, first)
    marker = started(station, "tx-marker", "MARKER")
    await producer.publish(SESSION_EVENTS, marker)
    await eventually(lambda: consuming.app.engine.is_active(station, "tx-marker"), timeout_s=30)
    assert not consuming.app.engine.is_active(station, "tx-1")


async def test_a_closed_session_is_never_reopened_by_what_arrives_after(
    consuming: Service, producer: EventProducer
) -> None:
    station, tag = f"CP-{uuid.uuid4().hex[:6]}", f"TAG-{uuid.uuid4().hex[:6]}"
    await consuming.stub().CreateToken(pb.CreateTokenRequest(token=a_token(tag)))
    await producer.publish(SESSION_EVENTS, ended(station, "tx-2", tag))
    await producer.publish(SESSION_EVENTS, started(station, "tx-2", tag))
    await producer.publish(SESSION_EVENTS, updated(station, "tx-2", tag))
    await producer.publish(SESSION_EVENTS, started(station, "tx-marker", "MARKER"))
    await eventually(lambda: consuming.app.engine.is_active(station, "tx-marker"), timeout_s=30)
    assert not consuming.app.engine.is_active(station, "tx-2")
    assert await _status(consuming, "CP-OTHER", tag) == pb.AUTHORIZATION_STATUS_ACCEPTED


async def test_an_accepted_boot_reconciles_the_local_list(
    consuming: Service, producer: EventProducer
) -> None:
    station = f"CP-{uuid.uuid4().hex[:6]}"
    gateway = consuming.fakes.gateway
    await consuming.stub().CreateToken(pb.CreateTokenRequest(token=a_token("LISTED")))
    await consuming.stub().AddToLocalList(
        pb.LocalListChange(scope=pb.LocalListScope(station_id=station), tokens=[ref("LISTED")])
    )
    await consuming.settled()
    assert gateway.sent_to(station) == []  # it was offline

    gateway.online.add(station)
    pending = StationBooted(registration_status="Pending")
    await producer.publish(STATION_EVENTS, factory.wrap("station.booted", station, pending))
    accepted = StationBooted(registration_status="Accepted")
    await producer.publish(STATION_EVENTS, factory.wrap("station.booted", station, accepted))
    await eventually(lambda: len(gateway.sent_to(station)) == 1, timeout_s=30)
    (full,) = gateway.sent_to(station)
    assert full.update_type == "Full"
    assert [e.id_token.id for e in full.entries] == ["LISTED"]
