"""Firmware settings: defaults and the environment names operators use."""

from __future__ import annotations

import pytest

from chargegrid.firmware.settings import FirmwareSettings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CHARGEGRID_FIRMWARE_HTTP_PORT", "CHARGEGRID_FIRMWARE_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = FirmwareSettings()
    assert (settings.grpc_port, settings.http_port) == (50056, 8070)
    assert settings.base_url(8070) == "http://127.0.0.1:8070"
    assert "TamperDetectionActivated" in settings.critical_security_events


def test_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARGEGRID_FIRMWARE_HTTP_PORT", "0")
    monkeypatch.setenv("CHARGEGRID_FIRMWARE_PUBLIC_URL", "https://fw.example/")
    monkeypatch.setenv("CHARGEGRID_FIRMWARE_CRITICAL_SECURITY_EVENTS", '["A", "B"]')
    settings = FirmwareSettings()
    assert settings.http_port == 0
    assert settings.base_url(41234) == "https://fw.example"
    assert settings.critical_security_events == ["A", "B"]
