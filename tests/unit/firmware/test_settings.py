"""Firmware settings: defaults and the environment names operators use."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chargegrid.firmware.settings import FirmwareSettings

PEERS = (
    "CHARGEGRID_FIRMWARE_STATIONS_ADDRESS",
    "CHARGEGRID_STATIONS_ADDRESS",
    "CHARGEGRID_FIRMWARE_SESSION_ADDRESS",
    "CHARGEGRID_SESSION_ADDRESS",
    "CHARGEGRID_FIRMWARE_STATION_TIMEOUT_S",
    "CHARGEGRID_STATION_TIMEOUT_S",
)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CHARGEGRID_FIRMWARE_HTTP_PORT", "CHARGEGRID_FIRMWARE_PUBLIC_URL", *PEERS):
        monkeypatch.delenv(name, raising=False)
    settings = FirmwareSettings()
    assert (settings.grpc_port, settings.http_port) == (50056, 8070)
    assert settings.base_url(8070) == "http://127.0.0.1:8070"
    assert "TamperDetectionActivated" in settings.critical_security_events
    assert (settings.stations_address, settings.session_address) == (None, None)
    assert (settings.station_timeout_s, settings.lookup_timeout_s) == (3600, 5.0)


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARGEGRID_FIRMWARE_HTTP_PORT", "0")
    monkeypatch.setenv("CHARGEGRID_FIRMWARE_PUBLIC_URL", "https://fw.example/")
    monkeypatch.setenv("CHARGEGRID_FIRMWARE_CRITICAL_SECURITY_EVENTS", '["A", "B"]')
    settings = FirmwareSettings()
    assert settings.http_port == 0
    assert settings.base_url(41234) == "https://fw.example"
    assert settings.critical_security_events == ["A", "B"]


def test_peer_addresses_come_from_the_shared_names_the_dev_stack_exports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in PEERS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHARGEGRID_STATIONS_ADDRESS", "127.0.0.1:50052")
    monkeypatch.setenv("CHARGEGRID_SESSION_ADDRESS", "127.0.0.1:50054")
    monkeypatch.setenv("CHARGEGRID_FIRMWARE_STATIONS_ADDRESS", "stations:50052")
    monkeypatch.setenv("CHARGEGRID_FIRMWARE_STATION_TIMEOUT_S", "900")
    settings = FirmwareSettings()
    assert settings.stations_address == "stations:50052"  # the service's own name wins
    assert settings.session_address == "127.0.0.1:50054"
    assert settings.station_timeout_s == 900


def test_a_timeout_of_zero_would_leave_stations_pending_and_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHARGEGRID_FIRMWARE_STATION_TIMEOUT_S", "0")
    with pytest.raises(ValidationError):
        FirmwareSettings()
