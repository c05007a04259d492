"""A station boots, heartbeats and completes full charging sessions against the CSMS double.

This is the Done-when of the simulator: a full session in every OCPP version, with every
frame the double received checked against the official JSON schemas.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chargegrid.simulator import EVSpec, StopReason, create_station

from .builders import StationFactory, a_config, energy_samples_16, samples_2x
from .csms_double import CsmsDouble

VERSIONS_2X = ["2.0.1", "2.1"]


async def test_station_boots_heartbeats_and_reports_every_connector(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    csms.heartbeat_interval = 1
    station = make_station("1.6", connectors=2)
    await station.start()
    await station.wait_registered(5)

    boot = (await csms.wait_for(station.station_id, "BootNotification"))[0]
    statuses = await csms.wait_for(station.station_id, "StatusNotification", count=2)
    await csms.wait_for(station.station_id, "Heartbeat", timeout_s=3)

    assert boot["chargePointVendor"] == "ChargeGrid"
    assert boot["firmwareVersion"] == "1.0.0"
    assert sorted(s["connectorId"] for s in statuses) == [1, 2]
    assert {s["status"] for s in statuses} == {"Available"}
    assert csms.schema_violations() == []


@pytest.mark.parametrize("version", VERSIONS_2X)
async def test_2x_station_boots_with_a_reason_and_reports_each_evse(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    station = make_station(version, connectors=2)
    await station.start()
    await station.wait_registered(5)

    boot = (await csms.wait_for(station.station_id, "BootNotification"))[0]
    statuses = await csms.wait_for(station.station_id, "StatusNotification", count=2)

    assert boot["reason"] == "PowerUp"
    assert boot["chargingStation"]["vendorName"] == "ChargeGrid"
    assert sorted((s["evseId"], s["connectorId"]) for s in statuses) == [(1, 1), (2, 1)]
    assert {s["connectorStatus"] for s in statuses} == {"Available"}
    assert csms.schema_violations() == []


async def test_boot_is_retried_while_the_csms_says_pending(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    csms.boot_statuses = ["Pending", "Rejected", "Accepted"]
    station = make_station("2.0.1")
    await station.start()
    await station.wait_registered(5)

    boots = csms.sent(station.station_id, "BootNotification")

    assert len(boots) == 3
    assert station.registration == "Accepted"


async def test_full_1_6_session_meters_monotonically_and_stops_at_the_delivered_energy(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)

    session = station.plug_in(1, id_tag="DRIVER01")
    meter_values = await csms.wait_for(station.station_id, "MeterValues", count=4)
    session.request_stop(StopReason.LOCAL)
    await asyncio.wait_for(session.finished.wait(), 5)
    stop = (await csms.wait_for(station.station_id, "StopTransaction"))[0]
    start = csms.sent(station.station_id, "StartTransaction")[0]
    statuses = [s["status"] for s in csms.sent(station.station_id, "StatusNotification")]

    periodic = energy_samples_16([v for m in meter_values for v in m["meterValue"]])
    final = energy_samples_16(stop["transactionData"])
    assert periodic == sorted(periodic)
    assert periodic[-1] > periodic[0]
    assert all(m["transactionId"] == stop["transactionId"] for m in meter_values)
    assert stop["meterStop"] >= periodic[-1]
    assert stop["meterStop"] == round(final[-1])
    assert stop["meterStop"] - start["meterStart"] == pytest.approx(session.energy_wh, abs=1)
    assert stop["reason"] == "Local"
    assert statuses == ["Available", "Preparing", "Charging", "Finishing", "Available"]
    assert csms.sent(station.station_id, "Authorize")[0]["idTag"] == "DRIVER01"
    assert csms.schema_violations() == []


@pytest.mark.parametrize("version", VERSIONS_2X)
async def test_full_2x_session_reports_started_updated_ended_with_growing_energy(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    station = make_station(version)
    await station.start()
    await station.wait_registered(5)

    session = station.plug_in(1, id_tag="DRIVER01")
    await csms.wait_for(
        station.station_id, "TransactionEvent", lambda e: e["eventType"] == "Updated", count=4
    )
    session.request_stop(StopReason.LOCAL)
    await asyncio.wait_for(session.finished.wait(), 5)
    events = await csms.wait_for(
        station.station_id, "TransactionEvent", lambda e: e["eventType"] == "Ended"
    )
    events = csms.sent(station.station_id, "TransactionEvent")

    started, ended = events[0], events[-1]
    energy = [v for e in events for v in samples_2x(e, "Energy.Active.Import.Register")]
    assert [e["seqNo"] for e in events] == list(range(len(events)))
    assert started["eventType"] == "Started"
    assert started["idToken"] == {"idToken": "DRIVER01", "type": "ISO14443"}
    assert started["evse"] == {"id": 1, "connectorId": 1}
    assert {e["transactionInfo"]["transactionId"] for e in events} == {session.transaction_id}
    assert energy == sorted(energy)
    assert energy[-1] > energy[0]
    assert energy[-1] - energy[0] == pytest.approx(session.energy_wh, abs=0.2)
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    assert any(samples_2x(e, "Power.Active.Import") == [11_000.0] for e in events)
    assert len(samples_2x(events[1], "Current.Import")) == 3
    statuses = [s["connectorStatus"] for s in csms.sent(station.station_id, "StatusNotification")]
    assert statuses == ["Available", "Occupied", "Available"]
    assert csms.schema_violations() == []


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_full_battery_ends_the_session(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    nearly_full = EVSpec(capacity_kwh=10.0, initial_soc_percent=97.0, max_power_w=11_000.0)
    station = make_station(version, time_scale=6_000.0)
    await station.start()
    await station.wait_registered(5)

    session = station.plug_in(1, ev=nearly_full)
    await asyncio.wait_for(session.finished.wait(), 5)

    assert session.stop_reason is StopReason.EV_FULL
    assert session.ev.soc_percent == pytest.approx(100.0, abs=0.05)
    assert session.energy_wh == pytest.approx(300.0, abs=1.0)
    assert csms.schema_violations() == []


async def test_blocked_token_never_starts_a_transaction(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    csms.blocked_tags.add("STOLEN")
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)

    session = station.plug_in(1, id_tag="STOLEN")
    await asyncio.wait_for(session.finished.wait(), 5)

    assert csms.sent(station.station_id, "StartTransaction") == []
    assert station.connectors[1].session is None


async def test_station_initiated_data_transfer_and_security_event_reach_the_csms(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("2.0.1")
    await station.start()
    await station.wait_registered(5)

    answer = await station.data_transfer("ChargeGrid", "ping", "hello")
    await station.security_event("SettingSystemTime", "clock adjusted")
    events: list[dict[str, Any]] = await csms.wait_for(
        station.station_id, "SecurityEventNotification", count=2
    )

    assert answer == ("Accepted", "hello")
    assert [e["type"] for e in events] == ["StartupOfTheDevice", "SettingSystemTime"]
    assert csms.schema_violations() == []


async def test_2x_transaction_ids_come_from_the_injected_id_factory(csms: CsmsDouble) -> None:
    ids = iter(["TX-A", "TX-B"])
    station = create_station("2.0.1", a_config(), csms.url, id_factory=lambda: next(ids))
    try:
        await station.start()
        await station.wait_registered(5)
        session = station.plug_in(1)
        await asyncio.wait_for(session.transaction_started.wait(), 5)
        session.request_stop(StopReason.LOCAL)
        await asyncio.wait_for(session.finished.wait(), 5)
    finally:
        await station.stop(timeout_s=2.0)

    events = csms.sent(station.station_id, "TransactionEvent")
    assert session.transaction_id == "TX-A"
    assert {e["transactionInfo"]["transactionId"] for e in events} == {"TX-A"}
    assert csms.schema_violations() == []
