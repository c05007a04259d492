"""The hand-written Station JSON is exactly what json_format writes (to_json)."""

from __future__ import annotations

from datetime import UTC, datetime

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.console.convert import to_json
from chargegrid.console.station_json import station_json, station_list_json


def a_full_station() -> pb.Station:
    """Every field set to a non-default value (checked below, so new fields are caught)."""
    station = pb.Station(
        id="CP1", site_id="s1", vendor="V", model="M", serial_number="SN", firmware_version="1.2",
        ocpp_version=2, security_profile=2, registration_status=2, has_password=True,
        certificate_fingerprint="ab:cd", online=True, last_boot_reason="PowerUp",
        heartbeat_interval_s=300, gateway_pod="gw-0", required_security_profile=1,
    )  # fmt: skip
    for name in ("last_seen", "last_boot_at", "created_at"):
        getattr(station, name).FromDatetime(datetime(2026, 12, 7, 12, 0, 0, 123000, tzinfo=UTC))
    connector = station.evses.add(evse_id=1).connectors.add(
        connector_id=1, type="cType2", max_power_w=22000.5, max_current_a=32.0, status=9,
        error_code="GroundFailure", info="x",
    )  # fmt: skip
    connector.status_at.FromDatetime(datetime(2026, 12, 7, tzinfo=UTC))
    station.evses.add(evse_id=2)
    return station


def _unset_fields(message: object) -> list[str]:
    missing = []
    for field in message.DESCRIPTOR.fields:  # type: ignore[attr-defined]
        if field.is_repeated:
            present = len(getattr(message, field.name)) > 0
        elif field.message_type is not None:
            present = message.HasField(field.name)  # type: ignore[attr-defined]
        else:
            present = bool(getattr(message, field.name))
        if not present:
            missing.append(field.name)
    return missing


def test_every_field_of_the_sample_station_is_set() -> None:
    station = a_full_station()
    assert _unset_fields(station) == []
    assert _unset_fields(station.evses[0].connectors[0]) == []


def test_a_full_station_converts_like_json_format() -> None:
    station = a_full_station()
    assert station_json(station) == to_json(station)


def test_an_empty_station_converts_like_json_format() -> None:
    assert station_json(pb.Station()) == to_json(pb.Station())


def test_a_list_reply_converts_like_json_format() -> None:
    reply = pb.ListStationsReply(
        stations=[a_full_station(), pb.Station(id="CP2", ocpp_version=99)],
        next_page_token="n", total=7,
    )  # fmt: skip
    assert station_list_json(reply) == to_json(reply)
