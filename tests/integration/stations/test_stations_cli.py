"""`chargegrid stations ...` against the real Stations API: a required profile, an operator's
Pending, and deleting a station."""

from __future__ import annotations

import asyncio

from typer.testing import CliRunner, Result

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.cli.main import app
from chargegrid.platform.grpc import Role
from tests.integration.stations.conftest import Api

runner = CliRunner()


async def cli(api: Api, *args: str) -> Result:
    options = ["--address", api.target, "--token", api.tokens[Role.OPERATOR]]
    return await asyncio.to_thread(runner.invoke, app, ["stations", *args, *options])


async def test_a_station_added_with_a_profile_shows_it(api: Api) -> None:
    added = await cli(api, "add", "CP-9", "--security-profile", "2")
    shown = await cli(api, "show", "CP-9")
    assert added.exit_code == 0, added.output
    assert "required security profile" in shown.output
    assert '"required_security_profile": 2' in (await cli(api, "show", "CP-9", "--json")).output


async def test_a_profile_outside_zero_to_three_is_refused_before_any_call(api: Api) -> None:
    refused = await cli(api, "add", "CP-9", "--security-profile", "4")
    assert refused.exit_code == 2
    assert (await cli(api, "show", "CP-9")).exit_code != 0


async def test_set_status_puts_a_station_back_to_pending(api: Api) -> None:
    await cli(api, "add", "CP-9")
    pending = await cli(api, "set-status", "CP-9", "pending")
    station = await api.as_role().GetStation(pb.GetStationRequest(station_id="CP-9"))
    assert pending.exit_code == 0, pending.output
    assert "CP-9 is pending" in pending.output
    assert station.registration_status == pb.REGISTRATION_STATUS_PENDING


async def test_set_status_refuses_a_status_it_does_not_know(api: Api) -> None:
    await cli(api, "add", "CP-9")
    refused = await cli(api, "set-status", "CP-9", "maybe")
    assert refused.exit_code == 2
    assert "pending, accepted or rejected" in refused.output


async def test_delete_with_yes_removes_the_station_and_the_id_can_be_added_again(
    api: Api,
) -> None:
    await cli(api, "add", "CP-9", "--password", "correct-horse-battery")
    deleted = await cli(api, "delete", "CP-9", "--yes")
    again = await cli(api, "add", "CP-9")
    assert deleted.exit_code == 0, deleted.output
    assert "station CP-9 deleted" in deleted.output
    assert again.exit_code == 0, again.output


async def test_delete_of_an_unknown_id_is_refused_clearly(api: Api) -> None:
    refused = await cli(api, "delete", "ghost", "--yes")
    assert refused.exit_code == 1
    assert "'ghost' does not exist" in refused.output


async def test_delete_without_yes_asks_and_keeps_the_station_when_told_no(api: Api) -> None:
    await cli(api, "add", "CP-9")
    kept = await asyncio.to_thread(
        runner.invoke,
        app,
        [
            "stations",
            "delete",
            "CP-9",
            "--address",
            api.target,
            "--token",
            api.tokens[Role.OPERATOR],
        ],
        input="n\n",
    )
    assert kept.exit_code == 1
    assert (await cli(api, "show", "CP-9")).exit_code == 0
