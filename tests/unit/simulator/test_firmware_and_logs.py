"""Firmware updates report every step and reboot into the new version; logs really upload."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ocpp.v16 import call as call16
from ocpp.v21 import call as call21
from ocpp.v201 import call as call201

from chargegrid.simulator import FirmwareFailure

from .builders import StationFactory, UploadSink
from .csms_double import CsmsDouble

FIRMWARE_URL = "http://firmware.example/sim-fw-2.0.0.bin"
SUCCESS = ["Downloading", "Downloaded", "Installing", "Installed"]


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def test_1_6_firmware_update_reports_each_step_and_reboots_into_the_new_version(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    await csms.call(sid, call16.UpdateFirmware(location=FIRMWARE_URL, retrieve_date=_now()))
    boots = await csms.wait_for(sid, "BootNotification", count=2)
    await csms.wait_for(sid, "SecurityEventNotification", lambda e: e["type"] == "FirmwareUpdated")
    statuses = [n["status"] for n in csms.sent(sid, "FirmwareStatusNotification")]

    assert statuses == SUCCESS
    assert boots[-1]["firmwareVersion"] == "sim-fw-2.0.0"
    assert csms.connection_counts[sid] == 2
    assert csms.schema_violations() == []


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_2x_firmware_update_carries_the_request_id_and_boots_for_the_update(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    call = call201 if version == "2.0.1" else call21
    station = make_station(version)
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    answer = await csms.call(
        sid,
        call.UpdateFirmware(
            request_id=5, firmware={"location": FIRMWARE_URL, "retrieve_date_time": _now()}
        ),
    )
    boots = await csms.wait_for(sid, "BootNotification", count=2)
    notifications = csms.sent(sid, "FirmwareStatusNotification")

    assert answer.status == "Accepted"
    assert [n["status"] for n in notifications] == SUCCESS
    assert {n["requestId"] for n in notifications} == {5}
    assert boots[-1]["reason"] == "FirmwareUpdate"
    assert boots[-1]["chargingStation"]["firmwareVersion"] == "sim-fw-2.0.0"
    assert csms.schema_violations() == []


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (FirmwareFailure.DOWNLOAD, ["Downloading", "DownloadFailed"]),
        (
            FirmwareFailure.INSTALL,
            ["Downloading", "Downloaded", "Installing", "InstallationFailed"],
        ),
    ],
)
async def test_failed_firmware_update_reports_the_failure_and_keeps_the_old_version(
    csms: CsmsDouble, make_station: StationFactory, failure: FirmwareFailure, expected: list[str]
) -> None:
    station = make_station("2.0.1", firmware_failure=failure)
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    await csms.call(
        sid,
        call201.UpdateFirmware(
            request_id=8, firmware={"location": FIRMWARE_URL, "retrieve_date_time": _now()}
        ),
    )
    await csms.wait_for(sid, "FirmwareStatusNotification", lambda n: n["status"] == expected[-1])
    statuses = [n["status"] for n in csms.sent(sid, "FirmwareStatusNotification")]

    assert statuses == expected
    assert station.firmware_version == "1.0.0"
    assert len(csms.sent(sid, "BootNotification")) == 1


async def test_station_that_drops_offline_mid_install_reports_installed_after_it_returns(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6", firmware_failure=FirmwareFailure.OFFLINE_DURING_INSTALL)
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    await csms.call(sid, call16.UpdateFirmware(location=FIRMWARE_URL, retrieve_date=_now()))
    await csms.wait_for(sid, "FirmwareStatusNotification", lambda n: n["status"] == "Installed")
    actions = [f.message[2] for f in csms.frames if f.inbound and f.kind == 2]
    after_install = actions[actions.index("BootNotification", 1) :]

    assert [n["status"] for n in csms.sent(sid, "FirmwareStatusNotification")] == SUCCESS
    assert csms.connection_counts[sid] == 2
    assert after_install.index("BootNotification") < after_install.index(
        "FirmwareStatusNotification"
    )
    assert csms.sent(sid, "BootNotification")[-1]["firmwareVersion"] == "sim-fw-2.0.0"


async def test_1_6_signed_firmware_update_uses_signed_status_notifications(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    answer = await csms.call(
        sid,
        call16.SignedUpdateFirmware(
            request_id=9,
            firmware={
                "location": FIRMWARE_URL,
                "retrieve_date_time": _now(),
                "signing_certificate": "-----BEGIN CERTIFICATE-----",
                "signature": "c2lnbmF0dXJl",
            },
        ),
    )
    await csms.wait_for(sid, "BootNotification", count=2)
    notifications = csms.sent(sid, "SignedFirmwareStatusNotification")

    assert answer.status == "Accepted"
    assert [n["status"] for n in notifications] == SUCCESS
    assert {n["requestId"] for n in notifications} == {9}
    assert csms.sent(sid, "FirmwareStatusNotification") == []
    assert csms.schema_violations() == []


async def test_get_diagnostics_uploads_the_journal_to_the_given_location(
    csms: CsmsDouble, make_station: StationFactory, upload_sink: UploadSink
) -> None:
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    answer = await csms.call(sid, call16.GetDiagnostics(location=upload_sink.url))
    await csms.wait_for(
        sid, "DiagnosticsStatusNotification", lambda n: n["status"] == "Uploaded", timeout_s=5
    )
    statuses = [n["status"] for n in csms.sent(sid, "DiagnosticsStatusNotification")]

    assert statuses == ["Uploading", "Uploaded"]
    assert len(upload_sink.received) == 1
    upload = upload_sink.received[0]
    assert upload.method == "POST"
    assert upload.path == f"/uploads/{answer.file_name}"
    assert sid in upload.body.decode()
    assert b"connected" in upload.body
    assert csms.schema_violations() == []


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
async def test_get_log_puts_the_file_and_reports_with_the_request_id(
    csms: CsmsDouble, make_station: StationFactory, upload_sink: UploadSink, version: str
) -> None:
    station = make_station(version, upload_method="PUT")
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id
    call = {"1.6": call16, "2.0.1": call201, "2.1": call21}[version]

    answer = await csms.call(
        sid,
        call.GetLog(
            log={"remote_location": upload_sink.url}, log_type="DiagnosticsLog", request_id=12
        ),
    )
    notifications = await csms.wait_for(
        sid, "LogStatusNotification", lambda n: n["status"] == "Uploaded", timeout_s=5
    )
    notifications = csms.sent(sid, "LogStatusNotification")

    assert answer.status == "Accepted"
    assert [n["status"] for n in notifications] == ["Uploading", "Uploaded"]
    assert {n["requestId"] for n in notifications} == {12}
    assert [u.method for u in upload_sink.received] == ["PUT"]
    assert upload_sink.received[0].path.endswith(answer.filename)
    assert csms.schema_violations() == []


async def test_upload_to_an_unreachable_location_reports_upload_failure(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("2.0.1", upload_timeout_s=1.0)
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    await csms.call(
        sid,
        call201.GetLog(
            log={"remote_location": "http://127.0.0.1:9/nowhere/"},
            log_type="SecurityLog",
            request_id=4,
        ),
    )
    await csms.wait_for(sid, "LogStatusNotification", lambda n: n["status"] == "UploadFailure")

    assert [n["status"] for n in csms.sent(sid, "LogStatusNotification")] == [
        "Uploading",
        "UploadFailure",
    ]
    assert csms.schema_violations() == []
