"""Reservations (block H) and alerts (NotifyEvent, block N) in the registry, on SQLite and
PostgreSQL, against a fake gateway over real gRPC. Named after the OCPP 2.0.1 use cases."""

from __future__ import annotations

import json
from datetime import timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.grpc import Role
from chargegrid.stations.models import ReservationRow
from tests.integration.stations.builders import FakeClock, FakeStation, a_station
from tests.integration.stations.conftest import Api, Database, Gateway
from tests.integration.stations.test_registry_events import Events


def _at(clock: FakeClock, minutes: float) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(clock() + timedelta(minutes=minutes))
    return stamp


def a_reservation(clock: FakeClock, **overrides: object) -> pb.CreateReservationRequest:
    fields: dict[str, object] = {
        "station_id": "CP-1", "evse_id": 1, "id_token": "TAG-1", "token_type": "ISO14443",
        "expiry": _at(clock, 30),
    }  # fmt: skip
    fields.update(overrides)
    return pb.CreateReservationRequest(**fields)  # type: ignore[arg-type]


async def _online_station(api: Api, gateway: Gateway) -> FakeStation:
    await api.as_role().CreateStation(pb.CreateStationRequest(station=a_station()))
    station = FakeStation()
    gateway.control.online["CP-1"] = station
    return station


async def _rows(db: Database) -> list[ReservationRow]:
    from sqlalchemy import select

    async with db.sessions() as session:
        return list((await session.scalars(select(ReservationRow))).all())


async def test_H01_the_registry_allocates_the_id_and_keeps_the_accepted_reservation(
    api: Api, gateway: Gateway, clock: FakeClock
) -> None:
    station = await _online_station(api, gateway)
    first = await api.as_role().CreateReservation(a_reservation(clock))
    second = await api.as_role().CreateReservation(a_reservation(clock, evse_id=2))

    assert (first.status, first.last_station_answer) == ("Reserved", "Accepted")
    assert second.reservation_id != first.reservation_id
    assert station.reservations == {first.reservation_id, second.reservation_id}
    sent = gateway.control.calls_of("ReserveNow")[0][1]
    assert (sent.reservation_id, sent.evse_id, sent.id_token.id, sent.id_token.type) == (
        first.reservation_id, 1, "TAG-1", "ISO14443",
    )  # fmt: skip
    listed = await api.as_role(Role.VIEWER).ListReservations(
        pb.ListReservationsRequest(station_id="CP-1", active_only=True)
    )
    assert [r.reservation_id for r in listed.reservations] == [
        second.reservation_id, first.reservation_id,
    ]  # fmt: skip


@pytest.mark.parametrize("answer", ["Occupied", "Rejected"])
async def test_H01_a_refusing_station_leaves_a_refused_inactive_reservation(
    api: Api, gateway: Gateway, clock: FakeClock, answer: str
) -> None:
    station = await _online_station(api, gateway)
    station.reserve_answer = answer

    refused = await api.as_role().CreateReservation(a_reservation(clock))

    assert refused.status == answer
    active = await api.as_role().ListReservations(pb.ListReservationsRequest(active_only=True))
    assert list(active.reservations) == []


async def test_an_offline_station_gets_no_reservation_and_nothing_is_stored(
    api: Api, db: Database, clock: FakeClock
) -> None:
    await api.as_role().CreateStation(pb.CreateStationRequest(station=a_station()))

    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await api.as_role().CreateReservation(a_reservation(clock))

    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    assert await _rows(db) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"expiry": None}, "expiry is required"),
        ({"id_token": ""}, "id token"),
        ({"token_type": "Magic"}, "token_type must be one of"),
        ({"evse_id": -1}, "evse_id"),
    ],
)
async def test_bad_reservation_requests_are_refused_and_change_nothing(
    api: Api, gateway: Gateway, db: Database, clock: FakeClock,
    overrides: dict[str, object], message: str,
) -> None:  # fmt: skip
    await _online_station(api, gateway)
    request = a_reservation(clock, **{k: v for k, v in overrides.items() if v is not None})
    if overrides.get("expiry", 1) is None:
        request.ClearField("expiry")

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.as_role().CreateReservation(request)

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in (refused.value.details() or "")
    assert gateway.control.calls_of("ReserveNow") == []
    assert await _rows(db) == []


async def test_an_expiry_in_the_past_is_refused(
    api: Api, gateway: Gateway, clock: FakeClock
) -> None:
    await _online_station(api, gateway)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.as_role().CreateReservation(a_reservation(clock, expiry=_at(clock, -1)))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_reservation_for_an_unknown_station_is_not_found(
    api: Api, clock: FakeClock
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await api.as_role().CreateReservation(a_reservation(clock, station_id="CP-404"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_H02_cancel_sends_the_reservation_id_and_marks_it_cancelled(
    api: Api, gateway: Gateway, clock: FakeClock
) -> None:
    station = await _online_station(api, gateway)
    made = await api.as_role().CreateReservation(a_reservation(clock))

    cancelled = await api.as_role().CancelReservation(
        pb.CancelReservationRequest(reservation_id=made.reservation_id)
    )

    assert (cancelled.status, cancelled.last_station_answer) == ("Cancelled", "Accepted")
    assert station.reservations == set()
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await api.as_role().CancelReservation(
            pb.CancelReservationRequest(reservation_id=made.reservation_id)
        )
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_H02_a_station_rejecting_the_cancel_leaves_the_reservation_as_it_was(
    api: Api, gateway: Gateway, clock: FakeClock
) -> None:
    station = await _online_station(api, gateway)
    made = await api.as_role().CreateReservation(a_reservation(clock))
    station.reservations.clear()  # the station no longer knows it

    answer = await api.as_role().CancelReservation(
        pb.CancelReservationRequest(reservation_id=made.reservation_id)
    )

    assert (answer.status, answer.last_station_answer) == ("Reserved", "Rejected")


async def test_cancelling_an_unknown_reservation_id_is_not_found_and_sends_nothing(
    api: Api, gateway: Gateway
) -> None:
    await _online_station(api, gateway)
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await api.as_role().CancelReservation(pb.CancelReservationRequest(reservation_id=999))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    assert gateway.control.calls_of("CancelReservation") == []


async def test_a_reservation_past_its_expiry_reads_expired_without_the_station(
    api: Api, gateway: Gateway, clock: FakeClock
) -> None:
    await _online_station(api, gateway)
    made = await api.as_role().CreateReservation(a_reservation(clock, expiry=_at(clock, 5)))
    clock.advance(301)

    read = await api.as_role().GetReservation(
        pb.GetReservationRequest(reservation_id=made.reservation_id)
    )
    active = await api.as_role().ListReservations(pb.ListReservationsRequest(active_only=True))

    assert read.status == "Expired"
    assert list(active.reservations) == []


@pytest.mark.parametrize("update", ["Expired", "Removed"])
async def test_H04_a_reservation_status_update_is_stored(
    api: Api, gateway: Gateway, db: Database, clock: FakeClock, update: str
) -> None:
    await _online_station(api, gateway)
    made = await api.as_role().CreateReservation(a_reservation(clock))
    events = Events(db, clock)
    payload = {"reservationId": made.reservation_id, "reservationUpdateStatus": update}

    await events.send("notification", ev.NotificationReceived(
        action="ReservationStatusUpdate", payload_json=json.dumps(payload)
    ))  # fmt: skip

    read = await api.as_role().GetReservation(
        pb.GetReservationRequest(reservation_id=made.reservation_id)
    )
    assert read.status == update


async def test_a_status_update_for_an_unknown_or_foreign_reservation_changes_nothing(
    api: Api, gateway: Gateway, db: Database, clock: FakeClock
) -> None:
    await _online_station(api, gateway)
    made = await api.as_role().CreateReservation(a_reservation(clock))
    events = Events(db, clock)
    for station, reservation_id in (("CP-2", made.reservation_id), ("CP-1", 4242)):
        payload = {"reservationId": reservation_id, "reservationUpdateStatus": "Removed"}
        await events.handle(events.envelope("notification", ev.NotificationReceived(
            action="ReservationStatusUpdate", payload_json=json.dumps(payload)
        ), station=station))  # fmt: skip

    read = await api.as_role().GetReservation(
        pb.GetReservationRequest(reservation_id=made.reservation_id)
    )
    assert read.status == "Reserved"


async def test_H03_a_transaction_started_on_a_reservation_marks_it_used(
    api: Api, gateway: Gateway, db: Database, clock: FakeClock
) -> None:
    await _online_station(api, gateway)
    made = await api.as_role().CreateReservation(a_reservation(clock))
    events = Events(db, clock)
    used = ev.ReservationUsed(reservation_id=made.reservation_id, transaction_id="tx-7", evse_id=1)

    await events.send("reservation_used", used)
    await events.send("reservation_used", used)  # redelivered: no change

    read = await api.as_role().GetReservation(
        pb.GetReservationRequest(reservation_id=made.reservation_id)
    )
    assert (read.status, read.transaction_id) == ("Used", "tx-7")
    listed = await api.as_role().ListReservations(
        pb.ListReservationsRequest(station_id="CP-1", active_only=True)
    )
    assert list(listed.reservations) == []
    with pytest.raises(grpc.aio.AioRpcError) as ended:
        await api.as_role().CancelReservation(
            pb.CancelReservationRequest(reservation_id=made.reservation_id)
        )
    assert ended.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_H03_a_use_of_an_unknown_foreign_or_ended_reservation_changes_nothing(
    api: Api, gateway: Gateway, db: Database, clock: FakeClock
) -> None:
    await _online_station(api, gateway)
    made = await api.as_role().CreateReservation(a_reservation(clock))
    cancelled = await api.as_role().CreateReservation(a_reservation(clock, evse_id=2))
    await api.as_role().CancelReservation(
        pb.CancelReservationRequest(reservation_id=cancelled.reservation_id)
    )
    events = Events(db, clock)
    for station, reservation_id in (
        ("CP-2", made.reservation_id),
        ("CP-1", 4242),
        ("CP-1", cancelled.reservation_id),
    ):
        used = ev.ReservationUsed(reservation_id=reservation_id, transaction_id="tx-x")
        await events.handle(events.envelope("reservation_used", used, station=station))

    rows = {row.id: row for row in await _rows(db)}
    assert (rows[made.reservation_id].status, rows[made.reservation_id].transaction_id) == (
        "Reserved",
        "",
    )
    assert rows[cancelled.reservation_id].status == "Cancelled"


def _notify_event(*data: dict[str, object]) -> ev.NotificationReceived:
    payload = {"generatedAt": "2026-11-02T08:00:00Z", "seqNo": 0, "eventData": list(data)}
    return ev.NotificationReceived(action="NotifyEvent", payload_json=json.dumps(payload))


def _event(event_id: int, **overrides: object) -> dict[str, object]:
    datum: dict[str, object] = {
        "eventId": event_id, "timestamp": "2026-11-02T07:59:00Z", "trigger": "Alerting",
        "actualValue": "81", "eventNotificationType": "CustomMonitor",
        "variableMonitoringId": 7, "techCode": "OVERTEMP",
        "component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Temperature"},
    }  # fmt: skip
    datum.update(overrides)
    return datum


async def test_N07_notify_event_is_stored_once_and_listed_as_an_alert(
    api: Api, db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    await events.send("connected", ev.StationConnected(gateway_pod="gw", ocpp_version=2))  # type: ignore[arg-type]
    notify = _notify_event(_event(1), {"eventId": 2, "component": {}})  # the second is malformed
    await events.send("notification", notify)
    await events.send("notification", notify)  # the station sent it again

    listed = await api.as_role(Role.VIEWER).ListAlerts(pb.ListAlertsRequest(station_id="CP-1"))

    assert [(a.event_id, a.variable, a.actual_value, a.tech_code) for a in listed.alerts] == [
        (1, "EVSE#1/Temperature", "81", "OVERTEMP")
    ]


async def test_a_cleared_event_closes_the_open_alert_of_its_variable(
    api: Api, db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    await events.send("connected", ev.StationConnected(gateway_pod="gw", ocpp_version=2))  # type: ignore[arg-type]
    await events.send("notification", _notify_event(_event(1)))
    await events.send(
        "notification",
        _notify_event(_event(2, timestamp="2026-11-02T07:59:30Z", cleared=True, actualValue="60")),
    )

    opened = await api.as_role().ListAlerts(pb.ListAlertsRequest(open_only=True))
    every = await api.as_role().ListAlerts(pb.ListAlertsRequest())

    assert list(opened.alerts) == []
    assert [a.event_id for a in every.alerts] == [2, 1]


async def test_O03_N02_report_parts_are_kept_by_request_id_once_each(
    api: Api, db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    await events.send("connected", ev.StationConnected(gateway_pod="gw", ocpp_version=2))  # type: ignore[arg-type]
    first = {"requestId": 7, "seqNo": 0, "tbc": True, "messageInfo": [{"id": 1}]}
    last = {"requestId": 7, "seqNo": 1, "messageInfo": [{"id": 2}]}
    for part in (first, last, last):  # the last part sent twice
        await events.send("notification", ev.NotificationReceived(
            action="NotifyDisplayMessages", payload_json=json.dumps(part)
        ))  # fmt: skip
    await events.send(
        "notification",
        ev.NotificationReceived(action="NotifyDisplayMessages", payload_json='{"seqNo": 0}'),
    )  # fmt: skip  (no requestId: skipped)

    reply = await api.as_role(Role.VIEWER).ListStationReports(
        pb.ListStationReportsRequest(
            station_id="CP-1", action="NotifyDisplayMessages", request_id=7
        )
    )

    assert [(p.seq_no, p.tbc) for p in reply.parts] == [(0, True), (1, False)]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.as_role().ListStationReports(
            pb.ListStationReportsRequest(station_id="CP-1", action="NotifyReport")
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
