"""Security profile upgrade (2.0.1 A05, 1.6 security whitepaper) on a real database: the
commands sent, the preconditions, and the new profile required only once the station
reconnects with it."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.platform.grpc.errors import FailedPrecondition, InvalidArgument
from chargegrid.stations.handlers import EventContext, connected
from chargegrid.stations.models import StationRow
from chargegrid.stations.upgrade import PRIORITY_KEY, upgrade_profile
from tests.integration.stations.builders import T0
from tests.integration.stations.conftest import Database

URL = "wss://csms.example:9443/ocpp"


@dataclass
class UpgradeCommands:
    """The gateway: records each command; `answers` overrides a step's status."""

    sent: list[tuple[str, object]] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)

    async def set_network_profile(self, station_id: str, slot: int, profile: int, url: str) -> str:
        self.sent.append(("SetNetworkProfile", (slot, profile, url)))
        return self.answers.get("SetNetworkProfile", "Accepted")

    async def set_configuration(self, station_id: str, values: dict[str, str]) -> dict[str, str]:
        self.sent.append(("SetConfiguration", values))
        return {key: self.answers.get(key, "Accepted") for key in values}

    async def reset(self, station_id: str) -> str:
        self.sent.append(("Reset", None))
        return "Accepted"


async def a_station(db: Database, station_id: str, *, ocpp_version: int = 2) -> None:
    async with db.sessions() as session, session.begin():
        session.add(
            StationRow(
                id=station_id,
                registration_status="Accepted",
                created_at=T0,
                online=True,
                ocpp_version=ocpp_version,
                security_profile=1,
                required_security_profile=1,
                password_hash="pbkdf2_sha256$1$salt$hash",
            )
        )


async def station(db: Database, station_id: str) -> StationRow:
    async with db.sessions() as session:
        row = await session.get(StationRow, station_id)
        assert row is not None
        return row


async def reconnect(db: Database, station_id: str, profile: int) -> None:
    async with db.sessions() as session, session.begin():
        row = await session.get(StationRow, station_id)
        assert row is not None
        event = ev.StationConnected(gateway_pod="gw-0", ocpp_version=2, security_profile=profile)
        await connected(EventContext(session, row, T0), event)


async def test_A05_upgrade_sends_network_profile_priority_and_reset_and_waits_for_reconnect(
    db: Database,
) -> None:
    await a_station(db, "CS-1")
    commands = UpgradeCommands()

    done = await upgrade_profile(db.sessions, commands, "CS-1", 2, URL, 0)  # type: ignore[arg-type]

    assert [name for name, _ in commands.sent] == ["SetNetworkProfile", "SetConfiguration", "Reset"]
    assert commands.sent[0][1] == (1, 2, URL)
    assert commands.sent[1][1] == {PRIORITY_KEY: "1"}
    assert done.pending_profile == 2
    row = await station(db, "CS-1")
    assert (row.required_security_profile, row.pending_security_profile) == (1, 2)

    await reconnect(db, "CS-1", 1)  # fell back to its old profile: still allowed
    assert (await station(db, "CS-1")).required_security_profile == 1
    await reconnect(db, "CS-1", 2)
    row = await station(db, "CS-1")
    assert (row.required_security_profile, row.pending_security_profile) == (2, 0)


async def test_1_6_upgrade_is_change_configuration_security_profile(db: Database) -> None:
    await a_station(db, "CP-16", ocpp_version=1)
    commands = UpgradeCommands()

    await upgrade_profile(db.sessions, commands, "CP-16", 2, "", 0)  # type: ignore[arg-type]

    assert commands.sent == [("SetConfiguration", {"SecurityProfile": "2"})]
    assert (await station(db, "CP-16")).pending_security_profile == 2


async def test_A05_refused_step_or_unmet_precondition_changes_nothing(db: Database) -> None:
    await a_station(db, "CS-1")
    refusing = UpgradeCommands(answers={"SetNetworkProfile": "Rejected"})
    with pytest.raises(FailedPrecondition, match="SetNetworkProfile with Rejected"):
        await upgrade_profile(db.sessions, refusing, "CS-1", 2, URL, 0)  # type: ignore[arg-type]
    assert [name for name, _ in refusing.sent] == ["SetNetworkProfile"]

    idle = UpgradeCommands()
    with pytest.raises(FailedPrecondition, match="needs a certificate"):
        await upgrade_profile(db.sessions, idle, "CS-1", 3, URL, 0)  # type: ignore[arg-type]
    with pytest.raises(FailedPrecondition, match="already requires"):
        await upgrade_profile(db.sessions, idle, "CS-1", 1, URL, 0)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="csms_url"):
        await upgrade_profile(db.sessions, idle, "CS-1", 2, "", 0)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="1, 2 or 3"):
        await upgrade_profile(db.sessions, idle, "CS-1", 4, URL, 0)  # type: ignore[arg-type]
    assert idle.sent == []
    row = await station(db, "CS-1")
    assert (row.required_security_profile, row.pending_security_profile) == (1, 0)
