"""The station answers what a CSMS asks: remote start/stop, profiles, availability, config."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from ocpp.exceptions import NotImplementedError as OcppNotImplemented
from ocpp.v16 import call as call16
from ocpp.v21 import call as call21
from ocpp.v201 import call as call201

from chargegrid.simulator import ConnectorBusyError, Session, Station

from .builders import StationFactory, energy_samples_16, samples_2x
from .csms_double import CsmsDouble

CALLS_2X = {"2.0.1": call201, "2.1": call21}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def _charging(station: Station, csms: CsmsDouble) -> Session:
    await station.start()
    await station.wait_registered(5)
    session = station.plug_in(1)
    await asyncio.wait_for(session.transaction_started.wait(), 5)
    return session


def _power_16(meter_values: dict[str, object]) -> float:
    values = meter_values["meterValue"]
    assert isinstance(values, list)
    return next(
        float(s["value"])
        for v in values
        for s in v["sampledValue"]
        if s["measurand"] == "Power.Active.Import"
    )


async def test_remote_start_and_stop_run_a_1_6_session_without_local_authorize(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    started = await csms.call(sid, call16.RemoteStartTransaction(id_tag="REMOTE01", connector_id=1))
    start = (await csms.wait_for(sid, "StartTransaction"))[0]
    session = station.connectors[1].session
    assert session is not None
    await asyncio.wait_for(session.transaction_started.wait(), 5)
    unknown = await csms.call(sid, call16.RemoteStopTransaction(transaction_id=999))
    stopped = await csms.call(
        sid, call16.RemoteStopTransaction(transaction_id=int(session.transaction_id or 0))
    )
    stop = (await csms.wait_for(sid, "StopTransaction"))[0]

    assert (started.status, unknown.status, stopped.status) == ("Accepted", "Rejected", "Accepted")
    assert start["idTag"] == "REMOTE01"
    assert csms.sent(sid, "Authorize") == []
    assert stop["reason"] == "Remote"
    assert csms.schema_violations() == []


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_request_start_and_stop_run_a_2x_session(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    call = CALLS_2X[version]
    station = make_station(version)
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    started = await csms.call(
        sid,
        call.RequestStartTransaction(
            id_token={"id_token": "REMOTE01", "type": "Central"}, remote_start_id=7, evse_id=1
        ),
    )
    first = (await csms.wait_for(sid, "TransactionEvent"))[0]
    transaction_id = first["transactionInfo"]["transactionId"]
    stopped = await csms.call(sid, call.RequestStopTransaction(transaction_id=transaction_id))
    ended = (await csms.wait_for(sid, "TransactionEvent", lambda e: e["eventType"] == "Ended"))[0]

    assert (started.status, stopped.status) == ("Accepted", "Accepted")
    assert first["triggerReason"] == "RemoteStart"
    assert first["transactionInfo"]["remoteStartId"] == 7
    assert first["idToken"] == {"idToken": "REMOTE01", "type": "Central"}
    assert ended["triggerReason"] == "RemoteStop"
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"
    assert csms.schema_violations() == []


async def test_1_6_tx_profile_caps_the_power_and_clearing_it_restores_full_power(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    session = await _charging(station, csms)
    sid = station.station_id
    ten_amps = {
        "charging_profile_id": 11,
        "stack_level": 0,
        "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Relative",
        "charging_schedule": {
            "charging_rate_unit": "A",
            "charging_schedule_period": [{"start_period": 0, "limit": 10.0}],
        },
    }

    result = await csms.call(
        sid, call16.SetChargingProfile(connector_id=1, cs_charging_profiles=ten_amps)
    )
    capped = await csms.wait_for(sid, "MeterValues", lambda m: _power_16(m) == 6900.0)
    cleared = await csms.call(sid, call16.ClearChargingProfile(id=11))
    await csms.wait_for(sid, "MeterValues", lambda m: _power_16(m) == 11000.0)

    assert (result.status, cleared.status) == ("Accepted", "Accepted")
    assert session.power_w == 11000.0
    assert energy_samples_16(capped[0]["meterValue"])[0] > 0
    assert csms.schema_violations() == []


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_2x_tx_profile_in_watts_caps_the_power_the_ev_draws(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    call = CALLS_2X[version]
    station = make_station(version)
    session = await _charging(station, csms)
    sid = station.station_id
    profile = {
        "id": 5,
        "stack_level": 1,
        "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Relative",
        "transaction_id": session.transaction_id,
        "charging_schedule": [
            {
                "id": 1,
                "charging_rate_unit": "W",
                "charging_schedule_period": [{"start_period": 0, "limit": 4000.0}],
            }
        ],
    }

    result = await csms.call(sid, call.SetChargingProfile(evse_id=1, charging_profile=profile))
    await csms.wait_for(
        sid,
        "TransactionEvent",
        lambda e: samples_2x(e, "Power.Active.Import") == [4000.0],
        count=2,
    )

    assert result.status == "Accepted"
    assert session.power_w == 4000.0
    assert csms.schema_violations() == []


async def test_tx_profile_without_a_transaction_is_rejected(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)
    profile = {
        "charging_profile_id": 1,
        "stack_level": 0,
        "charging_profile_purpose": "TxProfile",
        "charging_profile_kind": "Relative",
        "charging_schedule": {
            "charging_rate_unit": "W",
            "charging_schedule_period": [{"start_period": 0, "limit": 1000.0}],
        },
    }

    result = await csms.call(
        station.station_id, call16.SetChargingProfile(connector_id=1, cs_charging_profiles=profile)
    )

    assert result.status == "Rejected"


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_composite_schedule_combines_station_maximum_and_tx_default(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    station = make_station(version)
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id
    now = _iso(datetime.now(UTC))
    station_max = [{"start_period": 0, "limit": 20000.0}, {"start_period": 1800, "limit": 5000.0}]
    default = [{"start_period": 0, "limit": 16.0}]

    if version == "1.6":
        for connector_id, profile in (
            (0, _profile_16(1, "ChargePointMaxProfile", "Absolute", "W", station_max, now)),
            (1, _profile_16(2, "TxDefaultProfile", "Relative", "A", default, None)),
        ):
            answer = await csms.call(
                sid,
                call16.SetChargingProfile(connector_id=connector_id, cs_charging_profiles=profile),
            )
            assert answer.status == "Accepted"
        result = await csms.call(
            sid, call16.GetCompositeSchedule(connector_id=1, duration=3600, charging_rate_unit="W")
        )
        periods = result.charging_schedule["charging_schedule_period"]
    else:
        for evse_id, profile in (
            (0, _profile_2x(1, "ChargingStationMaxProfile", "Absolute", "W", station_max, now)),
            (1, _profile_2x(2, "TxDefaultProfile", "Relative", "A", default, None)),
        ):
            answer = await csms.call(
                sid, call201.SetChargingProfile(evse_id=evse_id, charging_profile=profile)
            )
            assert answer.status == "Accepted"
        result = await csms.call(
            sid, call201.GetCompositeSchedule(duration=3600, evse_id=1, charging_rate_unit="W")
        )
        periods = result.schedule["charging_schedule_period"]

    assert result.status == "Accepted"
    assert [float(p["limit"]) for p in periods] == [11040.0, 5000.0]
    assert int(periods[1]["start_period"]) == pytest.approx(1800, abs=1)
    assert csms.schema_violations() == []


def _profile_16(
    profile_id: int,
    purpose: str,
    kind: str,
    unit: str,
    periods: list[dict[str, float]],
    start: str | None,
) -> dict[str, object]:
    schedule: dict[str, object] = {"charging_rate_unit": unit, "charging_schedule_period": periods}
    if start:
        schedule["start_schedule"] = start
    return {
        "charging_profile_id": profile_id,
        "stack_level": 0,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": kind,
        "charging_schedule": schedule,
    }


def _profile_2x(
    profile_id: int,
    purpose: str,
    kind: str,
    unit: str,
    periods: list[dict[str, float]],
    start: str | None,
) -> dict[str, object]:
    schedule: dict[str, object] = {
        "id": profile_id,
        "charging_rate_unit": unit,
        "charging_schedule_period": periods,
    }
    if start:
        schedule["start_schedule"] = start
    return {
        "id": profile_id,
        "stack_level": 0,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": kind,
        "charging_schedule": [schedule],
    }


async def test_change_availability_waits_for_the_session_then_makes_the_connector_unavailable(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    session = await _charging(station, csms)
    sid = station.station_id

    scheduled = await csms.call(sid, call16.ChangeAvailability(connector_id=1, type="Inoperative"))
    session.request_stop()
    await asyncio.wait_for(session.finished.wait(), 5)
    back = await csms.call(sid, call16.ChangeAvailability(connector_id=1, type="Operative"))
    await csms.wait_for(sid, "StatusNotification", lambda s: s["status"] == "Available", count=2)
    statuses = [s["status"] for s in csms.sent(sid, "StatusNotification")]

    assert (scheduled.status, back.status) == ("Scheduled", "Accepted")
    assert statuses[-3:] == ["Finishing", "Unavailable", "Available"]


async def test_configuration_keys_answer_like_a_real_1_6_station(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    got = await csms.call(sid, call16.GetConfiguration(key=["HeartbeatInterval", "NoSuchKey"]))
    answers = [
        (await csms.call(sid, call16.ChangeConfiguration(key=key, value=value))).status
        for key, value in (
            ("HeartbeatInterval", "42"),
            ("NumberOfConnectors", "4"),
            ("WebSocketPingInterval", "30"),
            ("MeterValueSampleInterval", "soon"),
            ("NoSuchKey", "1"),
        )
    ]
    everything = await csms.call(sid, call16.GetConfiguration())

    assert got.configuration_key == [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"}
    ]
    assert got.unknown_key == ["NoSuchKey"]
    assert answers == ["Accepted", "Rejected", "RebootRequired", "Rejected", "NotSupported"]
    assert station.policy.heartbeat_interval_s == 42.0
    assert len(everything.configuration_key) > 20
    assert csms.schema_violations() == []


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_device_model_variables_and_base_report(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    call = CALLS_2X[version]
    station = make_station(version)
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    got = await csms.call(
        sid,
        call.GetVariables(
            get_variable_data=[
                {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}},
                {"component": {"name": "NoSuchCtrlr"}, "variable": {"name": "Enabled"}},
                {"component": {"name": "SecurityCtrlr"}, "variable": {"name": "BasicAuthPassword"}},
                {
                    "component": {"name": "EVSE", "evse": {"id": 1}},
                    "variable": {"name": "AvailabilityState"},
                },
            ]
        ),
    )
    changed = await csms.call(
        sid,
        call.SetVariables(
            set_variable_data=[
                {
                    "attribute_value": "30",
                    "component": {"name": "SampledDataCtrlr"},
                    "variable": {"name": "TxUpdatedInterval"},
                },
                {
                    "attribute_value": "Other",
                    "component": {"name": "ChargingStation"},
                    "variable": {"name": "Model"},
                },
            ]
        ),
    )
    report = await csms.call(sid, call.GetBaseReport(request_id=3, report_base="FullInventory"))
    pages = await csms.wait_for(sid, "NotifyReport")

    assert [r["attribute_status"] for r in got.get_variable_result] == [
        "Accepted",
        "UnknownComponent",
        "Rejected",
        "Accepted",
    ]
    assert got.get_variable_result[3]["attribute_value"] == "Available"
    assert [r["attribute_status"] for r in changed.set_variable_result] == ["Accepted", "Rejected"]
    assert station.policy.meter_interval_s == 30.0
    assert report.status == "Accepted"
    assert (pages[0]["requestId"], pages[0]["seqNo"]) == (3, 0)
    names = {entry["variable"]["name"] for entry in pages[0]["reportData"]}
    assert {"HeartbeatInterval", "TxUpdatedInterval", "AvailabilityState"} <= names
    assert csms.schema_violations() == []


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_reservation_holds_the_connector_for_its_token_until_cancelled(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    station = make_station(version)
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id
    expiry = _iso(datetime.now(UTC) + timedelta(minutes=15))
    if version == "1.6":
        reserve = call16.ReserveNow(
            connector_id=1, expiry_date=expiry, id_tag="HOLDER", reservation_id=77
        )
        cancel = call16.CancelReservation(reservation_id=77)
    else:
        reserve = call201.ReserveNow(
            id=77,
            expiry_date_time=expiry,
            id_token={"id_token": "HOLDER", "type": "ISO14443"},
            evse_id=1,
        )
        cancel = call201.CancelReservation(reservation_id=77)

    reserved = await csms.call(sid, reserve)
    await csms.wait_for(sid, "StatusNotification", lambda s: "Reserved" in s.values())
    with pytest.raises(ConnectorBusyError):
        station.plug_in(1, id_tag="SOMEONE-ELSE")
    cancelled = await csms.call(sid, cancel)
    again = await csms.call(sid, cancel)
    await csms.wait_for(sid, "StatusNotification", lambda s: "Available" in s.values(), count=2)

    assert (reserved.status, cancelled.status, again.status) == ("Accepted", "Accepted", "Rejected")
    assert station.connectors[1].reservation is None


async def test_reserving_token_starts_on_its_connector_with_the_reservation_id(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id
    expiry = _iso(datetime.now(UTC) + timedelta(minutes=15))

    await csms.call(
        sid,
        call16.ReserveNow(connector_id=1, expiry_date=expiry, id_tag="HOLDER", reservation_id=5),
    )
    station.plug_in(1, id_tag="HOLDER")
    start = (await csms.wait_for(sid, "StartTransaction"))[0]

    assert start["reservationId"] == 5


@pytest.mark.parametrize("version", ["1.6", "2.0.1", "2.1"])
async def test_trigger_message_sends_the_requested_message(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    station = make_station(version)
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id
    if version == "1.6":
        triggers = [
            call16.TriggerMessage(requested_message="StatusNotification", connector_id=1),
            call16.TriggerMessage(requested_message="MeterValues", connector_id=1),
            call16.TriggerMessage(requested_message="Heartbeat"),
            call16.TriggerMessage(requested_message="BootNotification"),
            call16.TriggerMessage(requested_message="DiagnosticsStatusNotification"),
            call16.TriggerMessage(requested_message="FirmwareStatusNotification"),
        ]
        expected = ["Accepted"] * 6
        boots = 2
    else:
        call = CALLS_2X[version]
        triggers = [
            call.TriggerMessage(requested_message="StatusNotification", evse={"id": 1}),
            call.TriggerMessage(requested_message="MeterValues", evse={"id": 1}),
            call.TriggerMessage(requested_message="Heartbeat"),
            call.TriggerMessage(requested_message="BootNotification"),
            call.TriggerMessage(requested_message="LogStatusNotification"),
            call.TriggerMessage(requested_message="FirmwareStatusNotification"),
        ]
        expected = ["Accepted", "Accepted", "Accepted", "Rejected", "Accepted", "Accepted"]
        boots = 1

    answers = [(await csms.call(sid, t)).status for t in triggers]
    await csms.wait_for(sid, "StatusNotification", count=2)
    await csms.wait_for(sid, "MeterValues")
    await csms.wait_for(sid, "Heartbeat")
    await csms.wait_for(sid, "FirmwareStatusNotification")
    await asyncio.sleep(0.05)

    assert answers == expected
    assert len(csms.sent(sid, "BootNotification")) == boots
    assert csms.schema_violations() == []


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_unlock_during_a_session_ends_it_in_1_6_and_is_refused_in_2x(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    station = make_station(version)
    session = await _charging(station, csms)
    sid = station.station_id
    if version == "1.6":
        answer = await csms.call(sid, call16.UnlockConnector(connector_id=1))
        stop = (await csms.wait_for(sid, "StopTransaction"))[0]
        assert (answer.status, stop["reason"]) == ("Unlocked", "UnlockCommand")
    else:
        answer = await csms.call(sid, call201.UnlockConnector(evse_id=1, connector_id=1))
        assert answer.status == "OngoingAuthorizedTransaction"
        assert not session.stop_requested.is_set()


async def test_data_transfer_for_our_vendor_is_echoed_and_others_are_unknown(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    ours = await csms.call(sid, call16.DataTransfer(vendor_id="ChargeGrid", data="ping"))
    theirs = await csms.call(sid, call16.DataTransfer(vendor_id="Elsewhere"))

    assert (ours.status, ours.data, theirs.status) == ("Accepted", "ping", "UnknownVendorId")


@pytest.mark.parametrize("version", ["1.6", "2.1"])
async def test_actions_the_simulator_does_not_handle_get_not_implemented(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    station = make_station(version)
    await station.start()
    await station.wait_registered(5)
    # 1.6: the simulator answers every Central System action (the security whitepaper's
    # certificate calls included), so a station-side action sent to it stands in; 2.x
    # display messages are answered now, a periodic event stream is not.
    request = call16.Heartbeat() if version == "1.6" else call21.GetPeriodicEventStream()

    with pytest.raises(OcppNotImplemented):
        await csms.call(station.station_id, request)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_station_that_refuses_smart_charging_rejects_every_profile(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    station = make_station(version, reject_charging_profiles=True)
    session = await _charging(station, csms)
    sid = station.station_id
    period = [{"start_period": 0, "limit": 10.0}]
    if version == "1.6":
        profile16 = {
            "charging_profile_id": 11,
            "stack_level": 0,
            "charging_profile_purpose": "TxProfile",
            "charging_profile_kind": "Relative",
            "charging_schedule": {"charging_rate_unit": "A", "charging_schedule_period": period},
        }
        result = await csms.call(
            sid, call16.SetChargingProfile(connector_id=1, cs_charging_profiles=profile16)
        )
    else:
        profile = {
            "id": 5,
            "stack_level": 0,
            "charging_profile_purpose": "TxProfile",
            "charging_profile_kind": "Relative",
            "transaction_id": session.transaction_id,
            "charging_schedule": [
                {"id": 1, "charging_rate_unit": "A", "charging_schedule_period": period}
            ],
        }
        result = await csms.call(
            sid, call201.SetChargingProfile(evse_id=1, charging_profile=profile)
        )

    assert result.status == "Rejected"
    assert station.profiles.installed() == []
    assert csms.schema_violations() == []
