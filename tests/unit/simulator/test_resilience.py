"""Resets, dropped connections, local lists, credentials and fleets."""

from __future__ import annotations

import asyncio
import base64

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from chargegrid.simulator import AutoSessions, EVSpec, Fleet, FleetSummary, StopReason, run_fleet

from .builders import StationFactory, a_config
from .csms_double import CsmsDouble


async def test_1_6_soft_reset_ends_the_transaction_reconnects_and_boots_again(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id
    session = station.plug_in(1)
    await asyncio.wait_for(session.transaction_started.wait(), 5)

    answer = await csms.call(sid, call16.Reset(type="Soft"))
    await csms.wait_for(sid, "BootNotification", count=2)
    await csms.wait_for(sid, "SecurityEventNotification", lambda e: e["type"] == "ResetOrReboot")

    assert answer.status == "Accepted"
    assert csms.sent(sid, "StopTransaction")[0]["reason"] == "SoftReset"
    assert csms.connection_counts[sid] == 2
    assert station.boot_count == 2


@pytest.mark.parametrize("version", ["2.0.1", "2.1"])
async def test_2x_reset_on_idle_waits_for_the_session_and_boots_for_a_remote_reset(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    station = make_station(version)
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id
    session = station.plug_in(1)
    await asyncio.wait_for(session.transaction_started.wait(), 5)

    answer = await csms.call(sid, call201.Reset(type="OnIdle"))
    await asyncio.sleep(0.1)
    boots_while_charging = len(csms.sent(sid, "BootNotification"))
    session.request_stop(StopReason.LOCAL)
    boots = await csms.wait_for(sid, "BootNotification", count=2)

    assert answer.status == "Scheduled"
    assert boots_while_charging == 1
    assert boots[-1]["reason"] == "RemoteReset"
    ended = csms.sent(sid, "TransactionEvent")[-1]
    assert ended["transactionInfo"]["stoppedReason"] == "Local"


async def test_station_reconnects_after_a_drop_without_booting_and_delivers_the_stop(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id
    session = station.plug_in(1)
    await asyncio.wait_for(session.transaction_started.wait(), 5)

    await csms.drop(sid)
    session.request_stop(StopReason.LOCAL)
    await asyncio.wait_for(session.finished.wait(), 5)
    stop = (await csms.wait_for(sid, "StopTransaction"))[0]

    assert csms.connection_counts[sid] == 2
    assert len(csms.sent(sid, "BootNotification")) == 1
    assert stop["meterStop"] == round(station.connectors[1].meter.register_wh)
    assert session.transaction_ended.is_set()  # answered on the new connection
    assert csms.schema_violations() == []


async def test_station_keeps_retrying_until_the_csms_comes_back(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("2.0.1")
    url = csms.url
    await csms.stop()
    await station.start()
    await asyncio.sleep(0.3)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    revived = CsmsDouble()
    await revived.start(port=port)
    try:
        await station.wait_registered(5)
        assert revived.connection_counts[station.station_id] == 1
    finally:
        await station.stop()
        await revived.stop()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_local_list_is_versioned_and_differential_updates_must_move_forward(
    csms: CsmsDouble, make_station: StationFactory, version: str
) -> None:
    station = make_station(version)
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    if version == "1.6":

        def entry(tag: str, status: str | None) -> dict[str, object]:
            return {"id_tag": tag, "id_tag_info": {"status": status}} if status else {"id_tag": tag}

        def send(version_no: int, kind: str, entries: list[dict[str, object]]) -> object:
            return call16.SendLocalList(
                list_version=version_no, update_type=kind, local_authorization_list=entries
            )

        get_version = call16.GetLocalListVersion()
    else:

        def entry(tag: str, status: str | None) -> dict[str, object]:
            token = {"id_token": tag, "type": "ISO14443"}
            return (
                {"id_token": token, "id_token_info": {"status": status}}
                if status
                else {"id_token": token}
            )

        def send(version_no: int, kind: str, entries: list[dict[str, object]]) -> object:
            return call201.SendLocalList(
                version_number=version_no, update_type=kind, local_authorization_list=entries
            )

        get_version = call201.GetLocalListVersion()

    full = await csms.call(sid, send(1, "Full", [entry("A", "Accepted"), entry("B", "Blocked")]))
    diff = await csms.call(sid, send(2, "Differential", [entry("C", "Accepted"), entry("A", None)]))
    stale = await csms.call(sid, send(2, "Differential", [entry("D", "Accepted")]))
    current = await csms.call(sid, get_version)

    assert [full.status, diff.status, stale.status] == ["Accepted", "Accepted", "VersionMismatch"]
    listed = getattr(current, "list_version", None) or getattr(current, "version_number", None)
    assert listed == 2
    now = station.clock()
    assert [station.local_list.status_of(t, now) for t in "ABCD"] == [
        None,
        "Blocked",
        "Accepted",
        None,
    ]
    assert csms.schema_violations() == []


async def test_locally_listed_token_charges_without_asking_the_csms(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id
    await csms.call(
        sid,
        call16.SendLocalList(
            list_version=1,
            update_type="Full",
            local_authorization_list=[{"id_tag": "LISTED", "id_tag_info": {"status": "Accepted"}}],
        ),
    )

    session = station.plug_in(1, id_tag="LISTED")
    await asyncio.wait_for(session.transaction_started.wait(), 5)

    assert csms.sent(sid, "Authorize") == []


async def test_security_profile_1_sends_basic_credentials(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("2.0.1", password="s3cret-s3cret-16")
    await station.start()
    await station.wait_registered(5)

    header = csms.headers[station.station_id]["Authorization"]
    expected = base64.b64encode(f"{station.station_id}:s3cret-s3cret-16".encode()).decode()
    assert header == f"Basic {expected}"


async def test_fleet_runs_numbered_stations_with_auto_sessions_and_shuts_down_cleanly(
    csms: CsmsDouble,
) -> None:
    drivers = AutoSessions(
        idle_s=(0.01, 0.03),
        stay_s=(0.15, 0.25),
        cars=(EVSpec(capacity_kwh=50.0, max_power_w=7_400.0),),
    )
    fleet = Fleet(
        csms.url,
        3,
        "2.0.1",
        template=a_config(),
        ramp_up_per_s=100.0,
        auto_sessions=drivers,
        password=lambda station_id: f"pw-{station_id}-0123456789",
        seed=7,
    )
    async with fleet:
        await fleet.wait_registered(5)
        for station in fleet.stations:
            await csms.wait_for(
                station.station_id,
                "TransactionEvent",
                lambda e: e["eventType"] == "Ended",
                timeout_s=5,
            )
        summary = fleet.summary()

    ids = [s.station_id for s in fleet.stations]
    assert ids == ["SIM-0001", "SIM-0002", "SIM-0003"]
    assert summary.registered == 3
    assert summary.energy_wh > 0
    for station_id in ids:
        events = csms.sent(station_id, "TransactionEvent")
        assert sum(e["eventType"] == "Started" for e in events) == sum(
            e["eventType"] == "Ended" for e in events
        )
        assert csms.headers[station_id]["Authorization"].startswith("Basic ")
    assert csms.schema_violations() == []


async def test_run_fleet_returns_a_summary_after_its_duration(csms: CsmsDouble) -> None:
    seen: list[FleetSummary] = []

    summary = await run_fleet(
        csms.url,
        2,
        "1.6",
        duration_s=0.4,
        template=a_config(),
        id_prefix="LOAD-",
        on_progress=seen.append,
        progress_every_s=0.1,
    )

    assert summary.stations == 2
    assert summary.registered == 2
    assert seen
    assert set(csms.connection_counts) == {"LOAD-0001", "LOAD-0002"}


async def test_new_authorization_key_is_write_only_and_used_on_the_next_connection(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6", password="first-password-0001")
    await station.start()
    await station.wait_registered(5)
    sid = station.station_id

    changed = await csms.call(
        sid, call16.ChangeConfiguration(key="AuthorizationKey", value="second-password-0002")
    )
    read_back = await csms.call(sid, call16.GetConfiguration(key=["AuthorizationKey"]))
    everything = await csms.call(sid, call16.GetConfiguration())
    await csms.drop(sid)
    await csms.wait_for(sid, "StatusNotification", count=2)

    expected = base64.b64encode(f"{sid}:second-password-0002".encode()).decode()
    assert changed.status == "Accepted"
    assert read_back.configuration_key == [{"key": "AuthorizationKey", "readonly": False}]
    assert "AuthorizationKey" not in {k["key"] for k in everything.configuration_key}
    assert csms.headers[sid]["Authorization"] == f"Basic {expected}"


async def test_a_flaky_station_drops_its_connection_keeps_charging_and_comes_back_unbooted(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("2.0.1", drop_connection_after_s=0.3, drop_downtime_s=0.3)
    await station.start()
    await station.wait_registered(5)
    session = station.plug_in(1)
    await asyncio.wait_for(session.transaction_started.wait(), 5)

    dropped_at = asyncio.get_running_loop().time()
    while station.registered:
        await asyncio.sleep(0.02)
    offline_for = asyncio.get_running_loop().time() - dropped_at
    assert not session.finished.is_set()  # still charging while offline
    await station.wait_registered(5)

    assert offline_for <= 1.0
    assert csms.connection_counts[station.station_id] >= 2
    assert len(csms.sent(station.station_id, "BootNotification")) == 1


async def test_drop_connection_on_demand_stays_away_for_the_downtime(
    csms: CsmsDouble, make_station: StationFactory
) -> None:
    station = make_station("1.6")
    await station.start()
    await station.wait_registered(5)
    await csms.wait_for(station.station_id, "SecurityEventNotification")  # the boot is over
    loop = asyncio.get_running_loop()

    station.drop_connection(0.5)
    started = loop.time()
    while station.registered:
        await asyncio.sleep(0.01)
    await station.wait_registered(5)

    assert loop.time() - started >= 0.5
    assert csms.connection_counts[station.station_id] == 2
    assert len(csms.sent(station.station_id, "BootNotification")) == 1
