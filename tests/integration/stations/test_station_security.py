"""Per-station security and registration over gRPC: the required profile (set at creation,
only ever raised), what the gateway is told at a handshake, an operator's Pending, and ids
that are deleted and created again."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.grpc import Role
from chargegrid.stations.store.stations import get_station
from chargegrid.stations.store.status import StatusReport, apply_status
from tests.integration.stations.builders import T0, FakeStation, a_boot, a_station
from tests.integration.stations.conftest import Api, Database, Gateway

PASSWORD = "correct-horse-battery"
EVSES = [pb.Evse(evse_id=1, connectors=[pb.Connector(connector_id=1, type="cCCS2")])]


async def _refused(call: object, request: object) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(request)  # type: ignore[operator]
    return refused.value


async def test_a_station_deleted_after_it_booted_can_be_created_again(
    api: Api, db: Database
) -> None:
    stub = api.as_role()
    await stub.CreateStation(
        pb.CreateStationRequest(station=a_station(evses=EVSES), password=PASSWORD)
    )
    await api.as_role(Role.SERVICE).RegisterBoot(a_boot())
    async with db.sessions() as session, session.begin():
        await apply_status(session, "CP-1", StatusReport(1, 2, 1, "", "", T0))
    await stub.DeleteStation(pb.DeleteStationRequest(station_id="CP-1"))

    again = await stub.CreateStation(pb.CreateStationRequest(station=a_station(evses=EVSES)))

    assert again.id == "CP-1"
    assert not again.has_password
    assert [c.connector_id for e in again.evses for c in e.connectors] == [1]


async def test_racing_creates_of_one_id_give_one_station_and_already_exists_never_internal(
    api: Api,
) -> None:
    stub = api.as_role()
    outcomes = await asyncio.gather(
        *[stub.CreateStation(pb.CreateStationRequest(station=a_station())) for _ in range(6)],
        return_exceptions=True,
    )
    codes = sorted(o.code().name if isinstance(o, grpc.aio.AioRpcError) else "OK" for o in outcomes)
    assert codes == ["ALREADY_EXISTS"] * 5 + ["OK"]


async def test_the_required_profile_is_set_at_creation_and_shown(api: Api) -> None:
    created = await api.as_role().CreateStation(
        pb.CreateStationRequest(station=a_station(required_security_profile=2))
    )
    assert created.required_security_profile == 2
    shown = await api.as_role(Role.VIEWER).GetStation(pb.GetStationRequest(station_id="CP-1"))
    assert shown.required_security_profile == 2


async def test_the_gateway_learns_what_a_station_must_present(api: Api) -> None:
    stub = api.as_role()
    await stub.CreateStation(pb.CreateStationRequest(station=a_station(id="OPEN")))
    await stub.CreateStation(
        pb.CreateStationRequest(station=a_station(id="BASIC"), password=PASSWORD)
    )
    await stub.CreateStation(
        pb.CreateStationRequest(
            station=a_station(id="MTLS", required_security_profile=3), password=PASSWORD
        )
    )
    service = api.as_role(Role.SERVICE)

    async def ask(station_id: str) -> tuple[bool, int, bool]:
        reply = await service.GetStationSecurity(
            pb.GetStationSecurityRequest(station_id=station_id)
        )
        return reply.known, reply.required_security_profile, reply.has_password

    assert await ask("OPEN") == (True, 0, False)
    assert await ask("BASIC") == (True, 1, True)
    assert await ask("MTLS") == (True, 3, True)
    assert await ask("NOBODY") == (False, 0, False)


async def test_only_services_ask_for_station_security(api: Api) -> None:
    refused = await _refused(
        api.as_role(Role.OPERATOR).GetStationSecurity,
        pb.GetStationSecurityRequest(station_id="CP-1"),
    )
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_profile_is_raised_explicitly_and_never_lowered(api: Api) -> None:
    stub = api.as_role()
    await stub.CreateStation(
        pb.CreateStationRequest(station=a_station(required_security_profile=1))
    )
    raised = await stub.RaiseSecurityProfile(
        pb.RaiseSecurityProfileRequest(station_id="CP-1", security_profile=3)
    )
    assert raised.required_security_profile == 3

    lowered = await _refused(
        stub.RaiseSecurityProfile,
        pb.RaiseSecurityProfileRequest(station_id="CP-1", security_profile=2),
    )
    edited = await _refused(
        stub.UpdateStation,
        pb.UpdateStationRequest(station=a_station(required_security_profile=1)),
    )

    assert lowered.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "never lowered" in (lowered.details() or "")
    assert edited.code() == grpc.StatusCode.FAILED_PRECONDITION
    shown = await stub.GetStation(pb.GetStationRequest(station_id="CP-1"))
    assert shown.required_security_profile == 3


async def test_an_update_without_a_profile_keeps_it(api: Api) -> None:
    stub = api.as_role()
    await stub.CreateStation(
        pb.CreateStationRequest(station=a_station(required_security_profile=2))
    )
    updated = await stub.UpdateStation(pb.UpdateStationRequest(station=a_station(model="X")))
    assert updated.required_security_profile == 2


@pytest.mark.parametrize("profile", [-1, 4])
async def test_a_profile_outside_one_to_three_is_refused_and_nothing_is_created(
    api: Api, profile: int
) -> None:
    stub = api.as_role()
    refused = await _refused(
        stub.CreateStation,
        pb.CreateStationRequest(station=a_station(required_security_profile=profile)),
    )
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    missing = await _refused(stub.GetStation, pb.GetStationRequest(station_id="CP-1"))
    assert missing.code() == grpc.StatusCode.NOT_FOUND


async def test_an_operator_puts_an_accepted_station_back_to_pending_for_its_next_boot(
    api: Api, db: Database, gateway: Gateway
) -> None:
    stub = api.as_role()
    await stub.CreateStation(pb.CreateStationRequest(station=a_station()))
    async with db.sessions() as session, session.begin():
        row = await get_station(session, "CP-1")
        row.online, row.gateway_pod = True, "gateway-0"
    gateway.control.online["CP-1"] = FakeStation()

    pending = await stub.SetRegistrationStatus(
        pb.SetRegistrationStatusRequest(
            station_id="CP-1", registration_status=pb.REGISTRATION_STATUS_PENDING
        )
    )
    await api.deps.tasks.idle()
    boot = await api.as_role(Role.SERVICE).RegisterBoot(a_boot())

    assert pending.registration_status == pb.REGISTRATION_STATUS_PENDING
    assert gateway.control.calls_of("TriggerMessage") == [("CP-1", "BootNotification")]
    assert (boot.status, boot.interval_s) == ("Pending", 60)

    await stub.SetRegistrationStatus(
        pb.SetRegistrationStatusRequest(
            station_id="CP-1", registration_status=pb.REGISTRATION_STATUS_ACCEPTED
        )
    )
    assert (await api.as_role(Role.SERVICE).RegisterBoot(a_boot())).status == "Accepted"


async def test_a_status_change_needs_a_status_and_a_known_station(api: Api) -> None:
    stub = api.as_role()
    await stub.CreateStation(pb.CreateStationRequest(station=a_station()))
    unspecified = await _refused(
        stub.SetRegistrationStatus, pb.SetRegistrationStatusRequest(station_id="CP-1")
    )
    unknown = await _refused(
        stub.SetRegistrationStatus,
        pb.SetRegistrationStatusRequest(
            station_id="ghost", registration_status=pb.REGISTRATION_STATUS_PENDING
        ),
    )
    assert unspecified.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert unknown.code() == grpc.StatusCode.NOT_FOUND
    shown = await stub.GetStation(pb.GetStationRequest(station_id="CP-1"))
    assert shown.registration_status == pb.REGISTRATION_STATUS_ACCEPTED
