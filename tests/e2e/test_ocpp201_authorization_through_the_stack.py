"""OCPP 2.0.1 block C (authorization) through the whole `make run` stack: tokens made with
the CLI, decided by the authorization service, carried by the gateway to a simulated 2.0.1
station and acted on there. Test names carry the use case, and the FR row where the Part 2
text was at hand (docs/ocpp-201-use-cases.md)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from chargegrid.api.authorization.v1 import authorization_pb2 as authz_pb
from chargegrid.api.authorization.v1.authorization_pb2_grpc import AuthorizationStub
from chargegrid.api.gateway.v1 import station_control_pb2 as ctl
from chargegrid.api.gateway.v1.station_control_pb2_grpc import StationControlStub
from chargegrid.platform.grpc import create_channel
from chargegrid.simulator import StationConfig, create_station
from chargegrid.simulator.model import Session
from chargegrid.simulator.station import Station
from tests.e2e.conftest import Stack


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("authorization"))
    try:
        await asyncio.to_thread(running.wait_for_output, "admin API token")
        yield running
    finally:
        running.stop()


async def _cli_json(stack: Stack, *args: str) -> Any:
    done = await asyncio.to_thread(stack.cli, *args, "--json")
    return json.loads(done.stdout)


async def _until(check: Callable[[], Any], timeout_s: float = 60) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = await check()
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


async def _station(stack: Stack, station_id: str) -> Station:
    station = create_station(
        "2.0.1", StationConfig(station_id=station_id, connectors=2), stack.ocpp_url
    )
    await station.start()
    await station.wait_registered(60)
    return station


async def _started(session: Session) -> None:
    await asyncio.wait_for(session.transaction_started.wait(), 60)


async def _sessions(stack: Stack, station_id: str) -> list[dict[str, Any]]:
    async def closed() -> list[dict[str, Any]]:
        found = await _cli_json(stack, "sessions", "list", "--station", station_id)
        return [s for s in found if s.get("stop_reason")]

    return list(await _until(closed))


async def _tokens(stack: Stack, *tokens: tuple[str, ...]) -> None:
    for args in tokens:
        await asyncio.to_thread(stack.cli, "tokens", "add", *args)


async def test_C09_FR_02_FR_03_a_card_of_the_same_group_stops_the_transaction(
    stack: Stack,
) -> None:
    await _tokens(stack, ("E2E-HOUSE",), ("E2E-ANNA", "--group", "E2E-HOUSE"),
                  ("E2E-BEN", "--group", "E2E-HOUSE"), ("E2E-STRANGER",))  # fmt: skip
    station = await _station(stack, "E2E-GRP-201")
    try:
        session = station.plug_in(1, id_tag="E2E-ANNA")
        await _started(session)
        assert session.group_id == "E2E-HOUSE"  # from the TransactionEventResponse
        assert await station.present_card("E2E-STRANGER") == "not_allowed"
        assert await station.present_card("E2E-NOBODY") == "refused"
        assert not session.stop_requested.is_set()

        assert await station.present_card("E2E-BEN") == "stopped"
        await asyncio.wait_for(session.finished.wait(), 60)
        assert station.cards.group("E2E-BEN") == "E2E-HOUSE"
        (closed,) = await _sessions(stack, "E2E-GRP-201")
        assert (closed["id_token"]["id"], closed["stop_reason"]) == ("E2E-ANNA", "Local")
        channel = create_channel(stack.address("authorization"), token=stack.admin_token)
        try:
            decisions = await AuthorizationStub(channel).ListDecisions(
                authz_pb.ListDecisionsRequest(station_id="E2E-GRP-201", id_token="E2E-BEN")
            )
        finally:
            await channel.close()
        # BEN's card inside ANNA's transaction (the Ended event) was accepted, not refused
        # as ConcurrentTx or as someone else's.
        inside = [d for d in decisions.decisions if d.purpose == "transaction"]
        assert [(d.transaction_id, d.status) for d in inside] == [
            (session.transaction_id, authz_pb.AUTHORIZATION_STATUS_ACCEPTED)
        ]
    finally:
        await station.stop()


async def test_C16_a_master_pass_stops_every_transaction_and_starts_none(stack: Stack) -> None:
    await _tokens(stack, ("E2E-POLICE",), ("E2E-OFFICER", "--group", "E2E-POLICE"),
                  ("E2E-CARL",), ("E2E-DORA",))  # fmt: skip
    station = await _station(stack, "E2E-MP-201")
    try:
        channel = create_channel(stack.address("gateway"), token=stack.admin_token)
        try:
            set_reply = await StationControlStub(channel).SetConfiguration(
                ctl.SetConfigurationRequest(
                    station_id="E2E-MP-201",
                    values=[
                        ctl.ConfigurationValue(
                            key="AuthCtrlr/MasterPassGroupId", value="E2E-POLICE"
                        )
                    ],
                )
            )
        finally:
            await channel.close()
        assert set_reply.results[0].status == "Accepted"
        carl, dora = station.plug_in(1, id_tag="E2E-CARL"), station.plug_in(2, id_tag="E2E-DORA")
        await asyncio.gather(_started(carl), _started(dora))

        assert await station.present_card("E2E-OFFICER") == "master_pass"
        await asyncio.wait_for(asyncio.gather(carl.finished.wait(), dora.finished.wait()), 60)

        async def both() -> list[dict[str, Any]]:
            found = await _sessions(stack, "E2E-MP-201")
            return found if len(found) == 2 else []

        closed = await _until(both)
        assert sorted((s["id_token"]["id"], s["stop_reason"]) for s in closed) == [
            ("E2E-CARL", "MasterPass"),
            ("E2E-DORA", "MasterPass"),
        ]
        # The Master Pass card is accepted by the CSMS but never starts a transaction.
        attempt = station.plug_in(1, id_tag="E2E-OFFICER")
        await asyncio.wait_for(attempt.finished.wait(), 60)
        assert not attempt.transaction_started.is_set()
        assert attempt.transaction_id is None
    finally:
        await station.stop()


async def test_C01_the_tokens_personal_message_is_shown_in_the_drivers_language(
    stack: Stack,
) -> None:
    await _tokens(stack, ("E2E-NL", "--message", "Welkom terug", "--language", "nl"))
    made = await _cli_json(stack, "tokens", "update", "E2E-NL", "--message", "Goedemorgen")
    assert (made["personal_message"], made["language"]) == ("Goedemorgen", "nl")
    station = await _station(stack, "E2E-MSG-201")
    try:
        session = station.plug_in(1, id_tag="E2E-NL")
        await _started(session)
        shown = [(m.id_tag, m.content, m.language) for m in station.cards.shown]
        # Authorize and the Started event both carry it.
        assert shown
        assert set(shown) == {("E2E-NL", "Goedemorgen", "nl")}
        assert station.cards.language["e2e-nl"] == "nl"
        too_long = await asyncio.to_thread(
            stack.cli, "tokens", "add", "E2E-LONG", "--message", "x" * 513, check=False
        )
        assert too_long.returncode != 0
        assert "longer than 512" in too_long.stdout + too_long.stderr
    finally:
        await station.stop()


async def test_C02_C06_FR_04_start_button_and_local_id_types_are_answered(stack: Stack) -> None:
    await _tokens(stack, ("E2E-LOCAL-1", "--type", "Local"))
    station = await _station(stack, "E2E-C02-201")
    try:
        # C02: the station authorizes a start button itself and says so with the token type.
        button = station.charging.plug_in(
            1, id_tag="BUTTON", id_token_type="NoAuthorization", authorized=True
        )
        await _started(button)
        assert not button.stop_requested.is_set()  # the CSMS accepted it (no Deauthorized)
        local = await station.outbox.send(lambda link: link.authorize_token("E2E-LOCAL-1", "Local"))
        unknown = await station.outbox.send(
            lambda link: link.authorize_token("E2E-LOCAL-2", "Local")
        )
        assert local is not None
        assert unknown is not None
        assert (local["status"], unknown["status"]) == ("Accepted", "Invalid")
    finally:
        await station.stop()
