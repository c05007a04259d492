"""Test-data builders and fakes for the stations service tests."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc

from chargegrid.api.gateway.v1 import station_control_pb2 as ctl
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as ctl_grpc
from chargegrid.api.stations.v1 import stations_pb2 as pb

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class FakeStation:
    """What a connected station knows: its configuration and how it answers writes."""

    config: dict[str, str] = field(default_factory=dict)
    #: Keys the station refuses to change, with the status it answers.
    refuse: dict[str, str] = field(default_factory=dict)
    #: Reservation ids the station holds, and what it answers the next ReserveNow.
    reservations: set[int] = field(default_factory=set)
    reserve_answer: str = "Accepted"


class FakeStationControl(ctl_grpc.StationControlServicer):
    """The gateway as the stations service sees it: stations in `online` answer, others are
    NOT_FOUND (offline), as the real gateway does."""

    def __init__(self) -> None:
        self.online: dict[str, FakeStation] = {}
        self.calls: list[tuple[str, str, Any]] = []

    def _station(self, station_id: str) -> FakeStation | None:
        return self.online.get(station_id)

    async def GetConfiguration(self, request: Any, context: Any) -> ctl.GetConfigurationReply:
        station = self._station(request.station_id)
        self.calls.append(("GetConfiguration", request.station_id, list(request.keys)))
        if station is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "station is not connected")
        assert station is not None
        keys = list(request.keys) or sorted(station.config)
        reply = ctl.GetConfigurationReply()
        for key in keys:
            if key in station.config:
                reply.values.add(key=key, value=station.config[key], readonly=key.startswith("ro"))
            else:
                reply.unknown_keys.append(key)
        return reply

    async def SetConfiguration(self, request: Any, context: Any) -> ctl.SetConfigurationReply:
        station = self._station(request.station_id)
        self.calls.append(
            ("SetConfiguration", request.station_id, {v.key: v.value for v in request.values})
        )
        if station is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "station is not connected")
        assert station is not None
        reply = ctl.SetConfigurationReply()
        for value in request.values:
            status = station.refuse.get(value.key, "Accepted")
            if status == "Accepted":
                station.config[value.key] = value.value
            reply.results.add(key=value.key, status=status)
        return reply

    async def TriggerMessage(self, request: Any, context: Any) -> ctl.CommandReply:
        self.calls.append(("TriggerMessage", request.station_id, request.message))
        if self._station(request.station_id) is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "station is not connected")
        return ctl.CommandReply(status="Accepted")

    async def Call(self, request: Any, context: Any) -> ctl.RawCallReply:
        payload = json.loads(request.payload_json)
        self.calls.append(("Call", request.station_id, (request.action, payload)))
        if self._station(request.station_id) is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "station is not connected")
        return ctl.RawCallReply(payload_json='{"status": "Accepted"}')

    async def ReserveNow(self, request: Any, context: Any) -> ctl.CommandReply:
        station = self._station(request.station_id)
        self.calls.append(("ReserveNow", request.station_id, request))
        if station is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "station is not connected")
        assert station is not None
        if station.reserve_answer == "Accepted":
            station.reservations.add(request.reservation_id)
        return ctl.CommandReply(status=station.reserve_answer)

    async def CancelReservation(self, request: Any, context: Any) -> ctl.CommandReply:
        station = self._station(request.station_id)
        self.calls.append(("CancelReservation", request.station_id, request.reservation_id))
        if station is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "station is not connected")
        assert station is not None
        if request.reservation_id not in station.reservations:
            return ctl.CommandReply(status="Rejected")
        station.reservations.discard(request.reservation_id)
        return ctl.CommandReply(status="Accepted")

    def calls_of(self, name: str) -> list[tuple[str, Any]]:
        return [(station, args) for call, station, args in self.calls if call == name]


def a_site(**overrides: Any) -> pb.Site:
    fields: dict[str, Any] = {
        "id": "site-1",
        "name": "Depot North",
        "city": "Berlin",
        "country": "DE",
        "latitude": 52.5,
        "longitude": 13.4,
        "timezone": "Europe/Berlin",
        "grid_limit_a": 250.0,
        "grid_phases": 3,
    }
    fields.update(overrides)
    return pb.Site(**fields)


def a_station(**overrides: Any) -> pb.Station:
    fields: dict[str, Any] = {"id": "CP-1", "vendor": "Acme", "model": "Volt 22"}
    fields.update(overrides)
    return pb.Station(**fields)


def a_boot(**overrides: Any) -> pb.RegisterBootRequest:
    fields: dict[str, Any] = {
        "station_id": "CP-1",
        "vendor": "Acme",
        "model": "Volt 22",
        "serial_number": "SN-1",
        "firmware_version": "1.0.0",
        "reason": "PowerUp",
        "ocpp_version": 2,
        "security_profile": 1,
    }
    fields.update(overrides)
    return pb.RegisterBootRequest(**fields)
