"""Desired configuration by scope, reconciling through the gateway, and reports."""

from __future__ import annotations

import grpc
import pytest

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.grpc import Role
from chargegrid.stations.store.stations import get_station
from tests.integration.stations.builders import FakeStation, a_site, a_station
from tests.integration.stations.conftest import Api, Database, Gateway

HB = "OCPPCommCtrlr/HeartbeatInterval"
TX = "TxCtrlr/EVConnectionTimeOut"


def entries(**values: str) -> list[pb.ConfigurationEntry]:
    return [pb.ConfigurationEntry(key=k.replace("__", "/"), value=v) for k, v in values.items()]


def scope(**target: str) -> pb.ConfigurationScope:
    return pb.ConfigurationScope(**target)


async def _setup(api: Api, db: Database, version: int = 2) -> None:
    stub = api.as_role()
    await stub.CreateSite(pb.CreateSiteRequest(site=a_site()))
    await stub.CreateStation(pb.CreateStationRequest(station=a_station(site_id="site-1")))
    async with db.sessions() as session, session.begin():
        row = await get_station(session, "CP-1")
        row.online, row.gateway_pod, row.ocpp_version = True, "gateway-0", version


async def _desire(api: Api, target: pb.ConfigurationScope, **values: str) -> None:
    await api.as_role().SetDesiredConfiguration(
        pb.SetDesiredConfigurationRequest(scope=target, entries=entries(**values))
    )


async def test_the_narrowest_scope_wins(api: Api, db: Database) -> None:
    await _setup(api, db)
    await _desire(api, scope(vendor_model="Acme/Volt 22"), OCPPCommCtrlr__HeartbeatInterval="900")
    await _desire(api, scope(vendor_model="Acme/Volt 22"), TxCtrlr__EVConnectionTimeOut="60")
    await _desire(api, scope(site_id="site-1"), TxCtrlr__EVConnectionTimeOut="90")
    await _desire(api, scope(station_id="CP-1"), OCPPCommCtrlr__HeartbeatInterval="120")

    state = await api.as_role(Role.VIEWER).GetConfigurationState(
        pb.GetConfigurationStateRequest(station_id="CP-1")
    )

    assert [(k.key, k.desired_value, k.desired_from, k.status) for k in state.keys] == [
        (HB, "120", "station", "pending"),
        (TX, "90", "site", "pending"),
    ]


async def test_desired_entries_merge_remove_and_replace(api: Api, db: Database) -> None:
    await _setup(api, db)
    stub = api.as_role()
    target = scope(station_id="CP-1")
    await _desire(api, target, A="1", B="2")
    await _desire(api, target, B="", C="3")
    merged = await stub.GetDesiredConfiguration(pb.GetDesiredConfigurationRequest(scope=target))
    replaced = await stub.SetDesiredConfiguration(
        pb.SetDesiredConfigurationRequest(scope=target, entries=entries(D="4"), replace=True)
    )
    assert {e.key: e.value for e in merged.entries} == {"A": "1", "C": "3"}
    assert {e.key: e.value for e in replaced.entries} == {"D": "4"}
    assert replaced.scope.station_id == "CP-1"


async def test_reconcile_writes_only_the_differences_and_records_each_key(
    api: Api, db: Database, gateway: Gateway
) -> None:
    await _setup(api, db)
    gateway.control.online["CP-1"] = FakeStation(
        config={HB: "300", TX: "90", "SampledDataCtrlr/TxUpdatedInterval": "60"},
        refuse={"SampledDataCtrlr/TxUpdatedInterval": "RebootRequired"},
    )
    await _desire(
        api,
        scope(station_id="CP-1"),
        OCPPCommCtrlr__HeartbeatInterval="120",
        TxCtrlr__EVConnectionTimeOut="90",
        SampledDataCtrlr__TxUpdatedInterval="30",
        HeartbeatInterval="999",  # a 1.6 key: never sent to a 2.x station
    )

    state = await api.as_role().ReconcileConfiguration(
        pb.ReconcileConfigurationRequest(station_id="CP-1")
    )

    by_key = {k.key: (k.status, k.reported_value) for k in state.keys}
    assert by_key == {
        HB: ("Accepted", "300"),
        "SampledDataCtrlr/TxUpdatedInterval": ("RebootRequired", "60"),
        TX: ("in_sync", "90"),
    }
    assert gateway.control.calls_of("SetConfiguration") == [
        ("CP-1", {HB: "120", "SampledDataCtrlr/TxUpdatedInterval": "30"})
    ]
    assert all(k.applied_at.seconds > 0 for k in state.keys)


async def test_reconciling_an_unreachable_station_records_offline(
    api: Api, db: Database, gateway: Gateway
) -> None:
    await _setup(api, db, version=1)
    await _desire(api, scope(station_id="CP-1"), HeartbeatInterval="120")
    state = await api.as_role().ReconcileConfiguration(
        pb.ReconcileConfigurationRequest(station_id="CP-1")
    )
    assert [(k.key, k.status) for k in state.keys] == [("HeartbeatInterval", "offline")]


async def test_a_changed_desired_value_is_pending_again(
    api: Api, db: Database, gateway: Gateway
) -> None:
    await _setup(api, db, version=1)
    gateway.control.online["CP-1"] = FakeStation(config={"HeartbeatInterval": "300"})
    await _desire(api, scope(station_id="CP-1"), HeartbeatInterval="120")
    await api.as_role().ReconcileConfiguration(pb.ReconcileConfigurationRequest(station_id="CP-1"))
    await _desire(api, scope(station_id="CP-1"), HeartbeatInterval="60")
    state = await api.as_role().GetConfigurationState(
        pb.GetConfigurationStateRequest(station_id="CP-1")
    )
    assert [(k.desired_value, k.status) for k in state.keys] == [("60", "pending")]


async def test_apply_now_reconciles_the_online_stations_of_the_scope(
    api: Api, db: Database, gateway: Gateway
) -> None:
    await _setup(api, db, version=1)
    gateway.control.online["CP-1"] = FakeStation(config={"HeartbeatInterval": "300"})
    await api.as_role().SetDesiredConfiguration(
        pb.SetDesiredConfigurationRequest(
            scope=scope(site_id="site-1"), entries=entries(HeartbeatInterval="120"), apply_now=True
        )
    )
    await api.deps.tasks.idle()
    assert gateway.control.online["CP-1"].config["HeartbeatInterval"] == "120"


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (pb.SetDesiredConfigurationRequest(entries=entries(A="1")), "INVALID_ARGUMENT", "scope"),
        (
            pb.SetDesiredConfigurationRequest(scope=scope(vendor_model="Acme")),
            "INVALID_ARGUMENT",
            "vendor/model",
        ),
        (
            pb.SetDesiredConfigurationRequest(
                scope=scope(station_id="CP-1"), entries=entries(**{"a__b__c": "1"})
            ),
            "INVALID_ARGUMENT",
            "Component",
        ),
        (
            pb.SetDesiredConfigurationRequest(
                scope=scope(site_id="nowhere"), entries=entries(A="1")
            ),
            "NOT_FOUND",
            "nowhere",
        ),
        (
            pb.SetDesiredConfigurationRequest(
                scope=scope(station_id="ghost"), entries=entries(A="1")
            ),
            "NOT_FOUND",
            "ghost",
        ),
    ],
)
async def test_bad_desired_configuration_is_refused_and_nothing_stored(
    api: Api, db: Database, request_: pb.SetDesiredConfigurationRequest, code: str, message: str
) -> None:
    await _setup(api, db)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.as_role().SetDesiredConfiguration(request_)
    assert refused.value.code().name == code
    assert message in (refused.value.details() or "")
    state = await api.as_role().GetConfigurationState(
        pb.GetConfigurationStateRequest(station_id="CP-1")
    )
    assert list(state.keys) == []


async def test_a_2x_report_request_sends_get_base_report(
    api: Api, db: Database, gateway: Gateway
) -> None:
    await _setup(api, db)
    gateway.control.online["CP-1"] = FakeStation()
    reply = await api.as_role().RequestReport(pb.RequestReportRequest(station_id="CP-1"))
    [(station, (action, payload))] = gateway.control.calls_of("Call")
    assert (reply.status, station, action) == ("Accepted", "CP-1", "GetBaseReport")
    assert payload == {"requestId": reply.request_id, "reportBase": "FullInventory"}


async def test_a_16_report_is_read_with_get_configuration_and_stored(
    api: Api, db: Database, gateway: Gateway
) -> None:
    await _setup(api, db, version=1)
    gateway.control.online["CP-1"] = FakeStation(
        config={"HeartbeatInterval": "300", "MeterValueSampleInterval": "60", "roNumber": "2"}
    )
    reply = await api.as_role().RequestReport(pb.RequestReportRequest(station_id="CP-1"))
    stub = api.as_role(Role.VIEWER)
    first = await stub.ListReportedVariables(
        pb.ListReportedVariablesRequest(station_id="CP-1", page=PageRequest(page_size=2))
    )
    rest = await stub.ListReportedVariables(
        pb.ListReportedVariablesRequest(
            station_id="CP-1", page=PageRequest(page_size=2, page_token=first.next_page_token)
        )
    )
    only_meter = await stub.ListReportedVariables(
        pb.ListReportedVariablesRequest(station_id="CP-1", prefix="Meter")
    )
    assert reply.status == "Accepted"
    assert [(v.key, v.value) for v in [*first.variables, *rest.variables]] == [
        ("HeartbeatInterval", "300"),
        ("MeterValueSampleInterval", "60"),
        ("roNumber", "2"),
    ]
    assert rest.variables[0].readonly
    assert [v.key for v in only_meter.variables] == ["MeterValueSampleInterval"]


async def test_a_report_request_to_an_offline_station_says_offline(api: Api, db: Database) -> None:
    await _setup(api, db)
    reply = await api.as_role().RequestReport(pb.RequestReportRequest(station_id="CP-1"))
    assert reply.status == "offline"
