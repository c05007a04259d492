"""What the gateway asks: boot decisions per policy, credentials; and password changes."""

from __future__ import annotations

import grpc
import pytest

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.grpc import Role
from chargegrid.stations.store.stations import get_station
from tests.integration.stations.builders import FakeStation, a_boot, a_station
from tests.integration.stations.conftest import Api, Database, Gateway

FINGERPRINT = "ab" * 32


@pytest.mark.parametrize(
    ("unknown_station_policy", "status", "interval", "registered_as"),
    [
        ("accept", "Accepted", 300, pb.REGISTRATION_STATUS_ACCEPTED),
        ("pending", "Pending", 60, pb.REGISTRATION_STATUS_PENDING),
        ("reject", "Rejected", 60, pb.REGISTRATION_STATUS_REJECTED),
    ],
)
async def test_an_unknown_station_is_registered_as_the_policy_says(
    api: Api, status: str, interval: int, registered_as: int
) -> None:
    reply = await api.as_role(Role.SERVICE).RegisterBoot(a_boot())
    station = await api.as_role().GetStation(pb.GetStationRequest(station_id="CP-1"))
    assert (reply.status, reply.interval_s) == (status, interval)
    assert station.registration_status == registered_as
    assert (station.vendor, station.serial_number, station.last_boot_reason) == (
        "Acme",
        "SN-1",
        "PowerUp",
    )


async def test_a_known_station_gets_its_own_heartbeat_interval_and_new_boot_data(
    api: Api,
) -> None:
    await api.as_role().CreateStation(
        pb.CreateStationRequest(station=a_station(heartbeat_interval_s=120))
    )
    reply = await api.as_role(Role.SERVICE).RegisterBoot(a_boot(firmware_version="2.0.0"))
    station = await api.as_role().GetStation(pb.GetStationRequest(station_id="CP-1"))
    assert (reply.status, reply.interval_s) == ("Accepted", 120)
    assert (station.firmware_version, station.ocpp_version, station.security_profile) == (
        "2.0.0",
        2,
        1,
    )
    assert station.last_boot_at.seconds > 0


async def test_a_pending_station_stays_pending_until_approved(api: Api) -> None:
    gateway_side = api.as_role(Role.SERVICE)
    assert (await gateway_side.RegisterBoot(a_boot())).status == "Pending"
    assert (await gateway_side.RegisterBoot(a_boot())).status == "Pending"
    await api.as_role().ApproveStation(pb.ApproveStationRequest(station_id="CP-1"))
    assert (await gateway_side.RegisterBoot(a_boot())).status == "Accepted"


async def test_only_services_may_ask_for_boot_decisions(api: Api) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await api.as_role(Role.OPERATOR).RegisterBoot(a_boot())
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_boot_without_station_id_or_with_a_bad_version_is_refused(api: Api) -> None:
    gateway_side = api.as_role(Role.SERVICE)
    for request in (a_boot(station_id=""), a_boot(ocpp_version=9)):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await gateway_side.RegisterBoot(request)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (await api.as_role().ListStations(pb.ListStationsRequest())).total == 0


async def _verify(api: Api, **fields: str) -> tuple[bool, str]:
    reply = await api.as_role(Role.SERVICE).VerifyCredentials(pb.VerifyCredentialsRequest(**fields))
    return reply.valid, reply.reason


async def test_credentials_are_checked_against_the_stored_digest(api: Api) -> None:
    stub = api.as_role()
    await stub.CreateStation(
        pb.CreateStationRequest(station=a_station(), password="correct-horse-battery")
    )
    await stub.CreateStation(pb.CreateStationRequest(station=a_station(id="NOPW")))
    await stub.CreateStation(
        pb.CreateStationRequest(
            station=a_station(id="BAD", registration_status=pb.REGISTRATION_STATUS_REJECTED),
            password="correct-horse-battery",
        )
    )
    assert await _verify(api, station_id="CP-1", password="correct-horse-battery") == (True, "")
    assert await _verify(api, station_id="CP-1", password="wrong-horse-battery") == (
        False,
        "mismatch",
    )
    assert await _verify(api, station_id="NOPW", password="x" * 16) == (False, "no_password")
    assert await _verify(api, station_id="GHOST", password="x" * 16) == (False, "unknown_station")
    assert await _verify(api, station_id="BAD", password="correct-horse-battery") == (
        False,
        "rejected",
    )


async def test_a_pinned_certificate_fingerprint_must_match(api: Api) -> None:
    await api.as_role().CreateStation(
        pb.CreateStationRequest(station=a_station(certificate_fingerprint=FINGERPRINT))
    )
    assert await _verify(api, station_id="CP-1", certificate_fingerprint=FINGERPRINT) == (
        True,
        "",
    )
    assert await _verify(api, station_id="CP-1", certificate_fingerprint="cd" * 32) == (
        False,
        "mismatch",
    )


async def test_a_generated_password_is_returned_once_and_works(api: Api, db: Database) -> None:
    await api.as_role().CreateStation(pb.CreateStationRequest(station=a_station()))
    reply = await api.as_role().SetStationPassword(pb.SetStationPasswordRequest(station_id="CP-1"))
    assert len(reply.generated_password) >= 16
    assert reply.push_status == ""
    assert await _verify(api, station_id="CP-1", password=reply.generated_password) == (True, "")


async def _online(db: Database, station_id: str, version: int) -> None:
    async with db.sessions() as session, session.begin():
        row = await get_station(session, station_id)
        row.online, row.gateway_pod, row.ocpp_version = True, "gateway-0", version


@pytest.mark.parametrize(
    ("version", "key"), [(1, "AuthorizationKey"), (2, "SecurityCtrlr/BasicAuthPassword")]
)
async def test_a_pushed_password_is_stored_once_the_station_accepted_it(
    api: Api, db: Database, gateway: Gateway, version: int, key: str
) -> None:
    await api.as_role().CreateStation(
        pb.CreateStationRequest(station=a_station(), password="old-password-0000")
    )
    await _online(db, "CP-1", version)
    gateway.control.online["CP-1"] = FakeStation()

    reply = await api.as_role().SetStationPassword(
        pb.SetStationPasswordRequest(station_id="CP-1", password="new-password-1111", push=True)
    )

    assert (reply.push_status, reply.generated_password) == ("Accepted", "")
    assert gateway.control.online["CP-1"].config == {key: "new-password-1111"}
    assert await _verify(api, station_id="CP-1", password="new-password-1111") == (True, "")


async def test_a_refused_or_unreachable_push_keeps_the_old_password(
    api: Api, db: Database, gateway: Gateway
) -> None:
    await api.as_role().CreateStation(
        pb.CreateStationRequest(station=a_station(), password="old-password-0000")
    )
    await _online(db, "CP-1", 2)
    request = pb.SetStationPasswordRequest(
        station_id="CP-1", password="new-password-1111", push=True
    )

    offline = await api.as_role().SetStationPassword(request)
    gateway.control.online["CP-1"] = FakeStation(
        refuse={"SecurityCtrlr/BasicAuthPassword": "Rejected"}
    )
    rejected = await api.as_role().SetStationPassword(request)

    assert (offline.push_status, rejected.push_status) == ("offline", "Rejected")
    assert await _verify(api, station_id="CP-1", password="old-password-0000") == (True, "")


async def test_a_password_out_of_ocpp_limits_is_refused(api: Api) -> None:
    await api.as_role().CreateStation(pb.CreateStationRequest(station=a_station()))
    for password in ("short", "x" * 41, "has spaces in it!!"):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await api.as_role().SetStationPassword(
                pb.SetStationPasswordRequest(station_id="CP-1", password=password)
            )
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert password not in (refused.value.details() or "")
