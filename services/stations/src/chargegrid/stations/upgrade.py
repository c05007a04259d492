"""Security profile upgrade of a connected station (2.0.1 A05, 1.6 security whitepaper).

2.x: SetNetworkProfile into a configuration slot, SetVariables
OCPPCommCtrlr/NetworkConfigurationPriority putting that slot first, then Reset OnIdle; 1.6:
ChangeConfiguration SecurityProfile. Every step must be accepted, or nothing is recorded.
The registry only records the profile as pending: it becomes required when the station
reconnects with it (`security.adopt_upgraded_profile`), so a station that cannot switch is
not locked out (A05.FR.04/05-style fallback to its old profile keeps working).
Preconditions: profile 1-2 need a password on record, profile 3 a current certificate the
CSMS CA delivered to the station.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.platform.grpc.errors import FailedPrecondition, InvalidArgument, Unavailable
from chargegrid.stations.gateway import CommandRefused, StationCommands, StationUnreachable
from chargegrid.stations.models import IssuedCertificateRow, StationRow
from chargegrid.stations.store.stations import get_station

OCPP16 = 1
PRIORITY_KEY = "OCPPCommCtrlr/NetworkConfigurationPriority"
ACCEPTED = frozenset({"Accepted", "RebootRequired"})


@dataclass(frozen=True)
class Upgrade:
    steps: list[str]
    pending_profile: int


async def _has_certificate(session: AsyncSession, station_id: str) -> bool:
    found = await session.scalar(
        select(IssuedCertificateRow.serial).where(
            IssuedCertificateRow.station_id == station_id,
            IssuedCertificateRow.certificate_type == "ChargingStationCertificate",
            IssuedCertificateRow.superseded.is_(False),
            IssuedCertificateRow.delivery == "delivered",
        )
    )
    return found is not None


def _check(station: StationRow, profile: int, csms_url: str) -> None:
    if not 1 <= profile <= 3:
        raise InvalidArgument("security_profile is 1, 2 or 3")
    if profile <= station.required_security_profile:
        raise FailedPrecondition(
            f"station {station.id!r} already requires profile {station.required_security_profile}"
        )
    if not station.online:
        raise FailedPrecondition(f"station {station.id!r} is offline")
    if profile < 3 and not station.password_hash:
        raise FailedPrecondition("profiles 1 and 2 need a password: set one first")
    if station.ocpp_version != OCPP16 and not csms_url:
        raise InvalidArgument("csms_url (the new profile's URL) is required for OCPP 2.x")


def _require(step: str, status: str, steps: list[str]) -> None:
    steps.append(f"{step}: {status}")
    if status not in ACCEPTED:
        raise FailedPrecondition(f"the station answered {step} with {status}; nothing changed")


async def upgrade_profile(
    sessions: async_sessionmaker[AsyncSession],
    commands: StationCommands,
    station_id: str,
    profile: int,
    csms_url: str,
    slot: int,
) -> Upgrade:
    async with sessions() as session:
        station = await get_station(session, station_id)
        _check(station, profile, csms_url)
        if profile == 3 and not await _has_certificate(session, station_id):
            raise FailedPrecondition("profile 3 needs a certificate of the CSMS CA on the station")
        version = station.ocpp_version
    steps: list[str] = []
    try:
        await _send(commands, station_id, version, profile, csms_url, slot, steps)
    except StationUnreachable as exc:
        raise Unavailable(f"station {station_id} cannot be reached: {exc}") from exc
    except CommandRefused as exc:
        raise FailedPrecondition(f"the station refused the upgrade: {exc}") from exc
    async with sessions() as session, session.begin():
        station = await get_station(session, station_id)
        station.pending_security_profile = profile
    return Upgrade(steps, profile)


async def _send(
    commands: StationCommands,
    station_id: str,
    version: int,
    profile: int,
    csms_url: str,
    slot: int,
    steps: list[str],
) -> None:
    if version == OCPP16:
        results = await commands.set_configuration(station_id, {"SecurityProfile": str(profile)})
        _require("ChangeConfiguration SecurityProfile", results.get("SecurityProfile", ""), steps)
    else:
        slot = slot or 1
        status = await commands.set_network_profile(station_id, slot, profile, csms_url)
        _require("SetNetworkProfile", status, steps)
        results = await commands.set_configuration(station_id, {PRIORITY_KEY: str(slot)})
        _require("SetVariables NetworkConfigurationPriority", results.get(PRIORITY_KEY, ""), steps)
        _require("Reset", await commands.reset(station_id), steps)
