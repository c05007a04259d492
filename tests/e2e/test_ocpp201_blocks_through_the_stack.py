"""OCPP 2.0.1 blocks C (authorization), H (reservations), N (monitoring) and O (display
messages) through the whole `make run` stack: the CLI -> authorization / stations service /
gateway -> a simulated station and back, one stack for the module. Test names carry the use
cases they prove, and the FR row where its text was at hand (docs/ocpp-201-use-cases.md)."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import grpc
import pytest

from chargegrid.api.authorization.v1 import authorization_pb2 as authz_pb
from chargegrid.api.authorization.v1.authorization_pb2_grpc import AuthorizationStub
from chargegrid.api.gateway.v1 import station_control_pb2 as ctl
from chargegrid.api.gateway.v1.station_control_pb2_grpc import StationControlStub
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.api.stations.v1.stations_pb2_grpc import StationsStub
from chargegrid.platform.grpc import create_channel
from chargegrid.simulator import StationConfig, create_station
from chargegrid.simulator.charging import ConnectorBusyError
from chargegrid.simulator.model import Session
from chargegrid.simulator.station import Station
from tests.e2e.conftest import Stack

if TYPE_CHECKING:
    from chargegrid.api.stations.v1.stations_pb2_grpc import StationsAsyncStub


@asynccontextmanager
async def _registry(stack: Stack) -> AsyncIterator[StationsAsyncStub]:
    channel = create_channel(stack.address("stations"), token=stack.admin_token)
    try:
        yield StationsStub(channel)
    finally:
        await channel.close()


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("blocks"))
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


async def _station(stack: Stack, station_id: str, version: str = "2.0.1") -> Station:
    config = StationConfig(station_id=station_id, connectors=2)
    station = create_station(version, config, stack.ocpp_url)
    await station.start()
    await station.wait_registered(60)

    async def registered() -> bool:
        async with _registry(stack) as registry:
            try:
                found = await registry.GetStation(pb.GetStationRequest(station_id=station_id))
            except grpc.aio.AioRpcError:
                return False
        return bool(found.online)

    assert await _until(registered), f"{station_id} never reached the registry"
    return station


async def test_H01_a_reservation_from_the_cli_holds_the_evse_for_its_token_only(
    stack: Stack,
) -> None:
    station = await _station(stack, "E2E-RES-201")
    try:
        made = await _cli_json(
            stack, "stations", "reserve", "E2E-RES-201", "--evse", "1", "--id-token", "HOLDER"
        )
        assert (made["status"], made["last_station_answer"]) == ("Reserved", "Accepted")
        held = station.connectors[1].reservation
        assert held is not None
        assert held.reservation_id == made["reservation_id"]
        with pytest.raises(ConnectorBusyError):
            station.plug_in(1, id_tag="SOMEONE-ELSE")
        channel = create_channel(stack.address("gateway"), token=stack.admin_token)
        try:
            start = await StationControlStub(channel).StartCharging(
                ctl.StartChargingRequest(
                    station_id="E2E-RES-201", evse_id=1,
                    id_token=ctl.IdToken(id="SOMEONE-ELSE", type="Central"),
                )
            )  # fmt: skip
        finally:
            await channel.close()
        assert start.status == "Rejected"

        cancelled = await _cli_json(
            stack, "stations", "cancel-reservation", str(made["reservation_id"])
        )
        assert cancelled["status"] == "Cancelled"
        assert station.connectors[1].reservation is None
        async with _registry(stack) as registry:
            with pytest.raises(grpc.aio.AioRpcError) as again:
                await registry.CancelReservation(
                    pb.CancelReservationRequest(reservation_id=made["reservation_id"])
                )
        assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    finally:
        await station.stop()


async def test_H03_the_reserved_token_starts_on_its_evse_and_the_reservation_reads_used(
    stack: Stack,
) -> None:
    await asyncio.to_thread(stack.cli, "tokens", "add", "E2E-HOLDER-3")
    station = await _station(stack, "E2E-USE-201")
    try:
        made = await _cli_json(
            stack, "stations", "reserve", "E2E-USE-201", "--evse", "2", "--id-token", "E2E-HOLDER-3"
        )
        assert made["status"] == "Reserved"
        session = station.plug_in(2, id_tag="E2E-HOLDER-3")
        await asyncio.wait_for(session.transaction_started.wait(), 60)
        assert session.reservation_id == made["reservation_id"]

        async def used() -> dict[str, Any] | None:
            rows = await _cli_json(stack, "stations", "reservations", "--station", "E2E-USE-201")
            return rows[0] if rows and rows[0]["status"] == "Used" else None

        row = await _until(used)
        assert row is not None
        assert row["transaction_id"] == session.transaction_id
    finally:
        await station.stop()


async def test_H04_an_expired_reservation_is_reported_by_the_station_and_stored(
    stack: Stack,
) -> None:
    station = await _station(stack, "E2E-EXP-201")
    try:
        made = await _cli_json(
            stack, "stations", "reserve", "E2E-EXP-201", "--evse", "2", "--id-token", "SOON",
            "--minutes", "0.05",
        )  # fmt: skip
        assert made["status"] == "Reserved"

        async def updated_by_the_station() -> pb.Reservation | None:
            async with _registry(stack) as registry:
                row = await registry.GetReservation(
                    pb.GetReservationRequest(reservation_id=made["reservation_id"])
                )
            # A status read from the expiry alone keeps the creation's updated_at.
            return row if row.updated_at.ToJsonString() > made["updated_at"] else None

        expired = await _until(updated_by_the_station)
        assert expired is not None
        assert expired.status == "Expired"
        listed = await _cli_json(stack, "stations", "reservations", "--station", "E2E-EXP-201")
        assert [r["status"] for r in listed] == ["Expired"]
        assert station.answered["ReservationStatusUpdate"] == 1
        assert station.connectors[2].reservation is None
    finally:
        await station.stop()


async def test_H_unknown_reservation_ids_are_refused_by_the_cli(stack: Stack) -> None:
    done = await asyncio.to_thread(
        stack.cli, "stations", "cancel-reservation", "987654", check=False
    )
    assert done.returncode != 0
    assert "reservation 987654 does not exist" in done.stdout + done.stderr


async def test_H_a_16_station_reserves_a_connector(stack: Stack) -> None:
    station = await _station(stack, "E2E-RES-16", version="1.6")
    try:
        made = await _cli_json(
            stack, "stations", "reserve", "E2E-RES-16", "--connector", "2", "--id-token", "TAG16"
        )
        assert made["status"] == "Reserved"
        assert station.connectors[2].reservation is not None
        cancelled = await _cli_json(
            stack, "stations", "cancel-reservation", str(made["reservation_id"])
        )
        assert cancelled["status"] == "Cancelled"
        assert station.connectors[2].reservation is None
    finally:
        await station.stop()


async def test_O01_O03_O05_display_messages_are_set_read_and_cleared_from_the_cli(
    stack: Stack,
) -> None:
    station = await _station(stack, "E2E-DSP-201")
    try:
        set_reply = await _cli_json(
            stack, "stations", "display-messages", "set", "E2E-DSP-201", "--id", "5",
            "--content", "Welkom", "--language", "nl", "--priority", "InFront",
        )  # fmt: skip
        assert set_reply["status"] == "Accepted"
        shown = station.display_messages[5]  # type: ignore[attr-defined]
        assert shown["message"] == {"format": "UTF8", "content": "Welkom", "language": "nl"}

        got = await _cli_json(stack, "stations", "display-messages", "get", "E2E-DSP-201")
        assert got["status"] == "Accepted"
        assert [(m["id"], m["message"]["content"]) for m in got["messages"]] == [(5, "Welkom")]
        unknown = await _cli_json(
            stack, "stations", "display-messages", "get", "E2E-DSP-201", "--id", "99"
        )
        assert unknown == {"status": "Unknown", "messages": []}

        too_long = await asyncio.to_thread(
            stack.cli, "stations", "display-messages", "set", "E2E-DSP-201", "--id", "6",
            "--content", "x" * 513, check=False,
        )  # fmt: skip
        assert too_long.returncode != 0
        assert "longer than 512" in too_long.stdout + too_long.stderr
        assert 6 not in station.display_messages  # type: ignore[attr-defined]

        cleared = await _cli_json(
            stack, "stations", "display-messages", "clear", "E2E-DSP-201", "5"
        )
        missing = await _cli_json(
            stack, "stations", "display-messages", "clear", "E2E-DSP-201", "5"
        )
        assert (cleared["status"], missing["status"]) == ("Accepted", "Unknown")
    finally:
        await station.stop()


async def test_display_messages_are_unimplemented_for_a_16_station(stack: Stack) -> None:
    station = await _station(stack, "E2E-DSP-16", version="1.6")
    try:
        done = await asyncio.to_thread(
            stack.cli, "stations", "display-messages", "set", "E2E-DSP-16", "--id", "1",
            "--content", "hi", check=False,
        )  # fmt: skip
        assert done.returncode != 0
        assert "has no SetDisplayMessage" in done.stdout + done.stderr
    finally:
        await station.stop()


async def _set_variable(stack: Stack, station_id: str, key: str, value: str) -> str:
    channel = create_channel(stack.address("gateway"), token=stack.admin_token)
    try:
        reply = await StationControlStub(channel).SetConfiguration(
            ctl.SetConfigurationRequest(
                station_id=station_id, values=[ctl.ConfigurationValue(key=key, value=value)]
            )
        )
    finally:
        await channel.close()
    return reply.results[0].status


async def test_N02_N04_N06_N07_a_monitor_set_from_the_cli_fires_notify_event_shown_as_an_alert(
    stack: Stack,
) -> None:
    station = await _station(stack, "E2E-MON-201")
    key = "TxCtrlr/EVConnectionTimeOut"
    try:
        unknown = await _cli_json(
            stack, "stations", "monitors", "set", "E2E-MON-201", "--key", "NoSuch/Thing",
            "--type", "UpperThreshold", "--value", "1",
        )  # fmt: skip
        assert unknown["results"][0]["status"] == "UnknownComponent"
        made = await _cli_json(
            stack, "stations", "monitors", "set", "E2E-MON-201", "--key", key,
            "--type", "UpperThreshold", "--value", "100", "--severity", "3",
        )  # fmt: skip
        assert made["results"][0]["status"] == "Accepted"
        monitor_id = made["results"][0]["id"]

        assert await _set_variable(stack, "E2E-MON-201", key, "150") == "Accepted"

        async def alerted() -> list[Any]:
            found = await _cli_json(stack, "stations", "alerts", "--station", "E2E-MON-201")
            return list(found)

        alerts = await _until(alerted)
        assert [
            (a["variable"], a["actual_value"], a["variable_monitoring_id"]) for a in alerts
        ] == [(key, "150", monitor_id)]
        assert await _set_variable(stack, "E2E-MON-201", key, "60") == "Accepted"

        async def closed() -> bool:
            opened = await _cli_json(
                stack, "stations", "alerts", "--station", "E2E-MON-201", "--open"
            )
            return opened == []

        assert await _until(closed)

        report = await _cli_json(stack, "stations", "monitors", "report", "E2E-MON-201")
        assert report["status"] == "Accepted"
        assert [(m["id"], m["key"], m["type"]) for m in report["monitors"]] == [
            (monitor_id, key, "UpperThreshold")
        ]
        cleared = await _cli_json(
            stack, "stations", "monitors", "clear", "E2E-MON-201", str(monitor_id), "999"
        )
        assert [r["status"] for r in cleared["results"]] == ["Accepted", "NotFound"]
        empty = await _cli_json(stack, "stations", "monitors", "report", "E2E-MON-201")
        assert empty["status"] == "EmptyResultSet"
        level = await asyncio.to_thread(
            stack.cli, "stations", "monitors", "level", "E2E-MON-201", "10", check=False
        )
        assert level.returncode != 0
        assert "severity must be 0" in level.stdout + level.stderr
    finally:
        await station.stop()


# --- block C (authorization): tokens from the CLI, decided by the authorization service,
# acted on by the simulated 2.0.1 station -------------------------------------------------


async def _started(session: Session) -> None:
    await asyncio.wait_for(session.transaction_started.wait(), 60)


async def _closed_sessions(stack: Stack, station_id: str, count: int = 1) -> list[dict[str, Any]]:
    async def closed() -> list[dict[str, Any]]:
        found = await _cli_json(stack, "sessions", "list", "--station", station_id)
        ended = [s for s in found if s.get("stop_reason")]
        return ended if len(ended) >= count else []

    return list(await _until(closed))


async def _tokens(stack: Stack, *rows: str) -> None:
    """Tokens through the CLI in one import (`id_token,type,group_id` rows)."""
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as csv_file:
        csv_file.write("id_token,type,group_id\n" + "\n".join(rows) + "\n")
    try:
        await asyncio.to_thread(stack.cli, "tokens", "import", csv_file.name)
    finally:
        os.unlink(csv_file.name)


async def test_C09_FR_02_FR_03_a_card_of_the_same_group_stops_the_transaction(
    stack: Stack,
) -> None:
    await _tokens(stack, "E2E-HOUSE,ISO14443,", "E2E-ANNA,ISO14443,E2E-HOUSE",
                  "E2E-BEN,ISO14443,E2E-HOUSE", "E2E-STRANGER,ISO14443,")  # fmt: skip
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
        (closed,) = await _closed_sessions(stack, "E2E-GRP-201")
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
    await _tokens(stack, "E2E-POLICE,ISO14443,", "E2E-OFFICER,ISO14443,E2E-POLICE",
                  "E2E-CARL,ISO14443,", "E2E-DORA,ISO14443,")  # fmt: skip
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

        closed = await _closed_sessions(stack, "E2E-MP-201", count=2)
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
    await asyncio.to_thread(
        stack.cli, "tokens", "add", "E2E-NL", "--message", "Welkom terug", "--language", "nl"
    )
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
    await _tokens(stack, "E2E-LOCAL-1,Local,")
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
