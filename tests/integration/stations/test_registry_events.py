"""Station events applied to the registry: presence, boots, connector status, reports."""

from __future__ import annotations

import json
from datetime import timedelta

from google.protobuf.message import Message
from sqlalchemy import event

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.stations.consumers import RegistryEvents
from chargegrid.stations.models import StationRow
from chargegrid.stations.store.configuration import STATION, Scope, reported_values, set_desired
from chargegrid.stations.store.stations import connectors_of, find_station
from chargegrid.stations.sweeper import OfflineSweeper
from tests.integration.stations.builders import T0, FakeClock
from tests.integration.stations.conftest import Database


class Events:
    """Feeds envelopes to the registry handler the consumer runs, as the gateway sends them."""

    def __init__(self, db: Database, clock: FakeClock, policy_status: str = "Pending") -> None:
        self.db = db
        self.clock = clock
        self.factory = EnvelopeFactory("gateway/test", clock=clock)
        self.reconciles: list[str] = []
        self.handle = RegistryEvents(db.sessions, clock, policy_status, self.reconciles.append)

    def envelope(
        self, kind: str, payload: Message, station: str = "CP-1", **kw: object
    ) -> Envelope:
        return self.factory.wrap(f"station.{kind}", station, payload, **kw)  # type: ignore[arg-type]

    async def send(self, kind: str, payload: Message, **kw: object) -> Envelope:
        envelope = self.envelope(kind, payload, **kw)
        await self.handle(envelope)
        return envelope

    async def station(self, station_id: str = "CP-1") -> StationRow:
        async with self.db.sessions() as session:
            found = await find_station(session, station_id)
        assert found is not None
        return found


def connected(pod: str, version: int = 2) -> ev.StationConnected:
    return ev.StationConnected(gateway_pod=pod, ocpp_version=version, security_profile=1)  # type: ignore[arg-type]


async def test_a_connection_puts_an_unknown_station_online_as_the_policy_says(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    await events.send("connected", connected("gw-a"))
    station = await events.station()
    assert (station.online, station.gateway_pod, station.ocpp_version) == (True, "gw-a", 2)
    assert (station.registration_status, station.security_profile) == ("Pending", 1)
    assert station.last_seen == T0


async def test_a_reconnect_to_another_pod_survives_the_old_pods_disconnect(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    await events.send("connected", connected("gw-a"))
    await events.send("connected", connected("gw-b"))
    await events.send("disconnected", ev.StationDisconnected(gateway_pod="gw-a", close_code=1006))
    station = await events.station()
    assert (station.online, station.gateway_pod) == (True, "gw-b")


async def test_a_replaced_connection_does_not_take_the_station_offline(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    await events.send("connected", connected("gw-a"))
    await events.send("disconnected", ev.StationDisconnected(gateway_pod="gw-a", close_code=4000))
    assert (await events.station()).online


async def test_a_disconnect_from_the_holding_pod_takes_it_offline(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    await events.send("connected", connected("gw-a"))
    await events.send("disconnected", ev.StationDisconnected(gateway_pod="gw-a", close_code=1000))
    station = await events.station()
    assert (station.online, station.gateway_pod) == (False, "")


async def test_a_redelivered_event_changes_nothing(db: Database, clock: FakeClock) -> None:
    events = Events(db, clock)
    await events.send("connected", connected("gw-a"))
    first = await events.send(
        "disconnected", ev.StationDisconnected(gateway_pod="gw-a", close_code=1000)
    )
    await events.send("connected", connected("gw-a"))
    await events.handle(first)  # at-least-once: the old disconnect arrives again
    assert (await events.station()).online


async def test_a_boot_records_its_data_and_an_accepted_one_asks_for_a_reconcile(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    async with db.sessions() as session, session.begin():
        await set_desired(session, Scope(STATION, "CP-1"), {"HeartbeatInterval": "60"}, False)
    await events.send("connected", connected("gw-a"))
    # Nothing desired applies to CP-2: a reconcile would have nothing to do.
    await events.send("booted", ev.StationBooted(registration_status="Accepted"), station="CP-2")
    clock.advance(5)
    await events.send(
        "booted",
        ev.StationBooted(
            vendor="Acme",
            model="Volt 22",
            serial_number="SN-9",
            firmware_version="3.1",
            reason="RemoteReset",
            registration_status="Accepted",
        ),
    )
    await events.send("booted", ev.StationBooted(vendor="Acme", registration_status="Pending"))
    station = await events.station()
    assert (station.serial_number, station.last_boot_at) == ("", clock.now)
    assert events.reconciles == ["CP-1"]


async def test_connector_status_lands_in_one_model_and_stale_reports_are_ignored(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    # 1.6 connector 2 (evse = connector) and a 2.x EVSE 1 connector 1; connector 0 is the station.
    await events.send("status_changed", ev.StatusChanged(evse_id=2, connector_id=2, status=3))
    await events.send("status_changed", ev.StatusChanged(evse_id=0, connector_id=0, status=8))
    await events.send(
        "status_changed",
        ev.StatusChanged(evse_id=1, connector_id=1, status=9, error_code="GroundFailure"),
    )
    await events.send(
        "status_changed",
        ev.StatusChanged(evse_id=1, connector_id=1, status=1),
        occurred_at=T0 - timedelta(seconds=30),
    )
    async with db.sessions() as session:
        rows = (await connectors_of(session, ["CP-1"]))["CP-1"]
    assert [(r.evse_id, r.connector_id, r.status, r.error_code) for r in rows] == [
        (1, 1, 9, "GroundFailure"),
        (2, 2, 3, ""),
    ]


async def test_a_notify_report_is_stored_as_reported_variables(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    payload = {
        "requestId": 7,
        "generatedAt": "2026-11-02T08:00:00Z",
        "seqNo": 0,
        "reportData": [
            {
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "HeartbeatInterval"},
                "variableAttribute": [{"value": "300", "mutability": "ReadWrite"}],
            },
            {
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "Power"},
                "variableAttribute": [
                    {"type": "MaxSet", "value": "22000"},
                    {"type": "Actual", "value": "11000", "mutability": "ReadOnly"},
                ],
            },
        ],
    }
    await events.send(
        "report",
        ev.ReportReceived(action="NotifyReport", request_id=7, payload_json=json.dumps(payload)),
    )
    async with db.sessions() as session:
        values = await reported_values(session, "CP-1")
    assert values == {"OCPPCommCtrlr/HeartbeatInterval": "300", "EVSE#1/Power": "11000"}


async def test_silent_stations_are_swept_offline_and_heartbeats_bring_them_back(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    await events.send("connected", connected("gw-a"))
    await events.send("connected", connected("gw-a"), station="CP-2")
    sweeper = OfflineSweeper(
        db.sessions, clock, default_interval_s=300, grace_factor=2.0, every_s=1
    )
    clock.advance(500)
    await events.send("heartbeat", ev.HeartbeatReceived(), station="CP-2")
    clock.advance(200)

    assert await sweeper.sweep_once() == ["CP-1"]
    assert await sweeper.sweep_once() == []  # a second replica finds nothing left to do
    await events.send("heartbeat", ev.HeartbeatReceived())
    assert (await events.station("CP-1")).online
    assert (await events.station("CP-2")).online


async def test_a_disconnect_of_an_unknown_station_registers_nothing(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    await events.send("disconnected", ev.StationDisconnected(gateway_pod="gw-a"), station="X")
    async with db.sessions() as session:
        assert await find_station(session, "X") is None


async def test_a_batch_of_heartbeats_writes_the_station_row_once_with_the_latest_time(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    await events.send("connected", connected("gw-a"))
    beats = []
    for _ in range(20):
        clock.advance(10)
        beats.append(events.envelope("heartbeat", ev.HeartbeatReceived()))
    statements: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        statements.append(sql)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        await events.handle.apply([*beats, beats[3]])  # one re-delivered within the batch
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)

    writes = [s for s in statements if s.startswith(("UPDATE stations", "INSERT INTO stations"))]
    assert len(writes) == 1
    assert (await events.station()).last_seen == T0 + timedelta(seconds=200)
