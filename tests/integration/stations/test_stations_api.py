"""Stations over gRPC: registration by operators, listing with filters, approval, removal."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from sqlalchemy import event as sqlalchemy_event

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.grpc import Role
from chargegrid.stations.store.stations import get_station
from chargegrid.stations.store.status import StatusReport, apply_status
from tests.integration.stations.builders import T0, FakeStation, a_site, a_station
from tests.integration.stations.conftest import Api, Database, Gateway


async def test_an_operator_registers_a_station_with_connectors_and_a_password(api: Api) -> None:
    station = a_station(
        evses=[pb.Evse(evse_id=1, connectors=[pb.Connector(connector_id=1, type="cCCS2")])]
    )
    created = await api.as_role().CreateStation(
        pb.CreateStationRequest(station=station, password="correct-horse-battery")
    )
    assert created.registration_status == pb.REGISTRATION_STATUS_ACCEPTED
    assert created.has_password
    assert created.heartbeat_interval_s == 300
    assert [(e.evse_id, [c.type for c in e.connectors]) for e in created.evses] == [(1, ["cCCS2"])]
    assert "correct-horse" not in str(created)


async def test_the_password_is_stored_as_a_digest_only(api: Api, db: Database) -> None:
    await api.as_role().CreateStation(
        pb.CreateStationRequest(station=a_station(), password="correct-horse-battery")
    )
    async with db.sessions() as session:
        row = await get_station(session, "CP-1")
    assert row.password_hash is not None
    assert row.password_hash.startswith("pbkdf2_sha256$")
    assert "correct-horse-battery" not in row.password_hash


async def _status(db: Database, station_id: str, status: int) -> None:
    async with db.sessions() as session, session.begin():
        await apply_status(session, station_id, StatusReport(1, 1, status, "", "", T0))


async def test_stations_are_filtered_and_counted(api: Api, db: Database) -> None:
    stub = api.as_role()
    await stub.CreateSite(pb.CreateSiteRequest(site=a_site()))
    await stub.CreateStation(pb.CreateStationRequest(station=a_station(id="A", site_id="site-1")))
    await stub.CreateStation(pb.CreateStationRequest(station=a_station(id="B", vendor="Other")))
    await stub.CreateStation(
        pb.CreateStationRequest(
            station=a_station(id="C", registration_status=pb.REGISTRATION_STATUS_PENDING)
        )
    )
    await _status(db, "B", ev.CONNECTOR_STATUS_CHARGING)

    async def ids(**filters: object) -> tuple[list[str], int]:
        reply = await stub.ListStations(pb.ListStationsRequest(**filters))
        return [s.id for s in reply.stations], reply.total

    assert await ids() == (["A", "B", "C"], 3)
    assert await ids(site_id="site-1") == (["A"], 1)
    assert await ids(vendor="Acme") == (["A", "C"], 2)
    assert await ids(registration_status=pb.REGISTRATION_STATUS_PENDING) == (["C"], 1)
    assert await ids(online="online") == ([], 0)
    assert await ids(online="offline") == (["A", "B", "C"], 3)
    assert await ids(connector_status=ev.CONNECTOR_STATUS_CHARGING) == (["B"], 1)


async def test_station_pages_resume_where_the_last_ended_and_total_counts_all(api: Api) -> None:
    stub = api.as_role()
    for n in range(5):
        await stub.CreateStation(pb.CreateStationRequest(station=a_station(id=f"CP{n}")))
    first = await stub.ListStations(pb.ListStationsRequest(page=PageRequest(page_size=3)))
    second = await stub.ListStations(
        pb.ListStationsRequest(page=PageRequest(page_size=3, page_token=first.next_page_token))
    )
    assert [s.id for s in first.stations] == ["CP0", "CP1", "CP2"]
    assert [s.id for s in second.stations] == ["CP3", "CP4"]
    assert (first.total, second.total, second.next_page_token) == (5, 5, "")


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (pb.ListStationsRequest(page=PageRequest(page_size=1001)), "page_size"),
        (pb.ListStationsRequest(page=PageRequest(page_token="garbage!")), "page_token"),
        (pb.ListStationsRequest(online="maybe"), "online"),
        (pb.ListStationsRequest(registration_status=42), "RegistrationStatus"),  # type: ignore[arg-type]
        (pb.ListStationsRequest(connector_status=99), "ConnectorStatus"),  # type: ignore[arg-type]
    ],
)
async def test_bad_listing_requests_are_invalid_arguments(
    api: Api, request_: pb.ListStationsRequest, message: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.as_role(Role.VIEWER).ListStations(request_)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in (refused.value.details() or "")


async def test_a_station_on_an_unknown_site_is_refused_and_not_created(api: Api) -> None:
    stub = api.as_role()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateStation(pb.CreateStationRequest(station=a_station(site_id="nowhere")))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert (await stub.ListStations(pb.ListStationsRequest())).total == 0


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (pb.CreateStationRequest(station=a_station(id="")), grpc.StatusCode.INVALID_ARGUMENT),
        (
            pb.CreateStationRequest(station=a_station(), password="short"),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            pb.CreateStationRequest(
                station=a_station(evses=[pb.Evse(evse_id=0, connectors=[pb.Connector()])])
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            pb.CreateStationRequest(station=a_station(certificate_fingerprint="XYZ")),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
    ],
)
async def test_bad_stations_are_refused(
    api: Api, request_: pb.CreateStationRequest, code: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.as_role().CreateStation(request_)
    assert refused.value.code() == code


async def test_a_station_id_twice_is_already_exists(api: Api) -> None:
    stub = api.as_role()
    await stub.CreateStation(pb.CreateStationRequest(station=a_station()))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreateStation(pb.CreateStationRequest(station=a_station()))
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_an_update_takes_the_editable_fields_and_keeps_live_ones(
    api: Api, db: Database
) -> None:
    stub = api.as_role()
    await stub.CreateSite(pb.CreateSiteRequest(site=a_site()))
    await stub.CreateStation(pb.CreateStationRequest(station=a_station()))
    await _status(db, "CP-1", ev.CONNECTOR_STATUS_CHARGING)

    updated = await stub.UpdateStation(
        pb.UpdateStationRequest(
            station=a_station(
                site_id="site-1",
                heartbeat_interval_s=120,
                online=True,
                evses=[
                    pb.Evse(evse_id=1, connectors=[pb.Connector(connector_id=1, type="sType2")])
                ],
            )
        )
    )
    connector = updated.evses[0].connectors[0]
    assert (updated.site_id, updated.heartbeat_interval_s, updated.online) == ("site-1", 120, False)
    assert (connector.type, connector.status) == ("sType2", ev.CONNECTOR_STATUS_CHARGING)


async def test_unknown_stations_are_not_found_everywhere(api: Api) -> None:
    stub = api.as_role()
    for call, request in [
        (stub.GetStation, pb.GetStationRequest(station_id="ghost")),
        (stub.DeleteStation, pb.DeleteStationRequest(station_id="ghost")),
        (stub.ApproveStation, pb.ApproveStationRequest(station_id="ghost")),
        (stub.UpdateStation, pb.UpdateStationRequest(station=a_station(id="ghost"))),
        (stub.GetConfigurationState, pb.GetConfigurationStateRequest(station_id="ghost")),
        (stub.ReconcileConfiguration, pb.ReconcileConfigurationRequest(station_id="ghost")),
        (stub.RequestReport, pb.RequestReportRequest(station_id="ghost")),
        (stub.ListReportedVariables, pb.ListReportedVariablesRequest(station_id="ghost")),
        (stub.SetStationPassword, pb.SetStationPasswordRequest(station_id="ghost")),
    ]:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(request)
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND, call
        assert "ghost" in (refused.value.details() or "")


async def test_approving_a_connected_pending_station_asks_it_to_boot_again(
    api: Api, db: Database, gateway: Gateway
) -> None:
    stub = api.as_role()
    await stub.CreateSite(pb.CreateSiteRequest(site=a_site()))
    await stub.CreateStation(
        pb.CreateStationRequest(
            station=a_station(registration_status=pb.REGISTRATION_STATUS_PENDING)
        )
    )
    async with db.sessions() as session, session.begin():
        row = await get_station(session, "CP-1")
        row.online, row.gateway_pod = True, "gateway-0"
    gateway.control.online["CP-1"] = FakeStation()

    approved = await stub.ApproveStation(
        pb.ApproveStationRequest(station_id="CP-1", site_id="site-1")
    )
    await api.deps.tasks.idle()

    assert approved.registration_status == pb.REGISTRATION_STATUS_ACCEPTED
    assert approved.site_id == "site-1"
    assert gateway.control.calls_of("TriggerMessage") == [("CP-1", "BootNotification")]


async def test_approving_an_offline_station_waits_for_its_next_boot(
    api: Api, gateway: Gateway
) -> None:
    stub = api.as_role()
    await stub.CreateStation(
        pb.CreateStationRequest(
            station=a_station(registration_status=pb.REGISTRATION_STATUS_REJECTED)
        )
    )
    approved = await stub.ApproveStation(pb.ApproveStationRequest(station_id="CP-1"))
    await api.deps.tasks.idle()
    assert approved.registration_status == pb.REGISTRATION_STATUS_ACCEPTED
    assert gateway.control.calls_of("TriggerMessage") == []


async def test_concurrent_lookups_are_answered_together_each_with_its_own_station(
    api: Api, db: Database
) -> None:
    """A boot storm's GetStation calls share database round trips, yet each gets its own
    station (with its connectors) or NOT_FOUND, and an edit counts from the next call on."""
    stub = api.as_role()
    evses = [pb.Evse(evse_id=1, connectors=[pb.Connector(connector_id=1, type="cType2")])]
    for index in range(30):
        station = a_station(id=f"S-{index:02d}", vendor=f"V{index}", evses=evses)
        await stub.CreateStation(pb.CreateStationRequest(station=station))
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    engine = db.sessions.kw["bind"].sync_engine
    sqlalchemy_event.listen(engine, "before_cursor_execute", count)
    try:
        wanted = [f"S-{index:02d}" for index in range(30)] + ["NOPE-1", "NOPE-2"]
        answers = await asyncio.gather(
            *(stub.GetStation(pb.GetStationRequest(station_id=s)) for s in wanted),
            return_exceptions=True,
        )
    finally:
        sqlalchemy_event.remove(engine, "before_cursor_execute", count)
    for index, answer in enumerate(answers[:30]):
        assert isinstance(answer, pb.Station)
        assert (answer.id, answer.vendor) == (f"S-{index:02d}", f"V{index}")
        assert [c.type for e in answer.evses for c in e.connectors] == ["cType2"]
    for missing in answers[30:]:
        assert isinstance(missing, grpc.aio.AioRpcError)
        assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert 0 < statements < 30  # one call each would be 60 statements (station, connectors)

    await stub.UpdateStation(
        pb.UpdateStationRequest(station=a_station(id="S-00", vendor="Edited", evses=evses))
    )
    edited = await stub.GetStation(pb.GetStationRequest(station_id="S-00"))
    assert edited.vendor == "Edited"
