"""commands (receiver): OCPI commands reach the gateway's StationControl over real gRPC, are
answered at once, and their CommandResult is POSTed to the partner's response_url."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, update

from chargegrid.api.gateway.v1 import station_control_pb2 as gw
from chargegrid.api.gateway.v1.station_control_pb2_grpc import (
    StationControlServicer,
    add_StationControlServicer_to_server,
)
from chargegrid.roaming.context import RoamingContext
from chargegrid.roaming.flows.command_rows import CommandRow, ReservationRow
from chargegrid.roaming.flows.commands import CommandRunner
from chargegrid.roaming.flows.pushes import Flows
from chargegrid.roaming.models import EvseRow, OutboxRow
from chargegrid.roaming.modules.tokens import tokens_of
from chargegrid.roaming.ocpi.tokens import digest
from chargegrid.roaming.outbox import OutboxWorker
from chargegrid.roaming.partners import REGISTERED
from chargegrid.roaming.token_models import OcpiToken
from tests.unit.roaming.fakes import (
    OUR_URL,
    RoutingTransport,
    auth,
    build_context,
    close_context,
    ok,
)
from tests.unit.roaming.test_flows import a_session, event

TOKEN_C = "emsp1-token-c"
RESULTS = "http://emsp.test/results"


class FakeGateway(StationControlServicer):
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.status = "Accepted"
        self.delay_s = 0.0

    async def _answer(self, name: str, request: Any) -> gw.CommandReply:
        self.calls.append((name, request))
        await asyncio.sleep(self.delay_s)
        return gw.CommandReply(status=self.status)

    async def StartCharging(self, request: Any, context: Any) -> gw.CommandReply:
        return await self._answer("StartCharging", request)

    async def StopCharging(self, request: Any, context: Any) -> gw.CommandReply:
        return await self._answer("StopCharging", request)

    async def UnlockConnector(self, request: Any, context: Any) -> gw.CommandReply:
        return await self._answer("UnlockConnector", request)

    async def ReserveNow(self, request: Any, context: Any) -> gw.CommandReply:
        return await self._answer("ReserveNow", request)

    async def CancelReservation(self, request: Any, context: Any) -> gw.CommandReply:
        return await self._answer("CancelReservation", request)


@dataclass
class ResultSink:
    results: dict[str, Any] = field(default_factory=dict)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/results/{uid}")
        async def result(uid: str, request: Request) -> JSONResponse:
            self.results[uid] = await request.json()
            return JSONResponse(ok())

        return app


@dataclass
class World:
    ctx: RoamingContext
    http: httpx.AsyncClient
    gateway: FakeGateway
    sink: ResultSink
    runner: CommandRunner

    async def settle(self) -> None:
        """Every command in flight answered, and its CommandResult sent by the outbox."""
        await self.runner.drain()
        await OutboxWorker(self.ctx.outbox, self.ctx.partners, self.ctx.client).sweep()

    async def command(self, kind: str, body: dict[str, Any]) -> httpx.Response:
        return await self.http.post(
            f"/ocpi/2.2.1/commands/{kind}", json=body, headers=auth(TOKEN_C)
        )


def a_token(uid: str = "TOK9") -> dict[str, Any]:
    return {
        "country_code": "NL", "party_id": "EMS", "uid": uid, "type": "RFID",
        "contract_id": f"NL-EMS-{uid}", "issuer": "eMSP", "valid": True,
        "whitelist": "ALLOWED", "last_updated": "2026-12-07T09:00:00Z",
    }  # fmt: skip


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    transport = RoutingTransport()
    ctx = await build_context(database_url, transport)
    sink = ResultSink()
    transport.route("emsp.test", sink.app())
    await ctx.partners.add("emsp1", name="eMSP", allowed_modules=["commands", "sessions"])
    await ctx.partners.update(
        "emsp1", status=REGISTERED, country_code="NL", party_id="EMS",
        token_hash=digest(TOKEN_C), their_token="ours-at-emsp1",
    )  # fmt: skip
    now = datetime.now(UTC)
    async with ctx.sessions.begin() as session:
        session.add(
            EvseRow(uid="CS1*1", location_id="SITE1", station_id="CS1", evse_id=1, doc="{}",
                    digest="-", status="AVAILABLE", last_updated=now)
        )  # fmt: skip
    fake = FakeGateway()
    server = grpc.aio.server()
    add_StationControlServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    runner = CommandRunner(channel, ctx.sessions, ctx.outbox, ctx.clock, timeout_s=0.5)
    ctx.services["commands"] = runner
    http = httpx.AsyncClient(transport=transport, base_url=OUR_URL)
    yield World(ctx, http, fake, sink, runner)
    await runner.stop()
    await http.aclose()
    await channel.close()
    await server.stop(0)
    await close_context(ctx)


async def test_start_session_goes_to_the_station_and_its_result_to_the_response_url(
    world: World,
) -> None:
    body = {"response_url": f"{RESULTS}/s1", "token": a_token(), "location_id": "SITE1",
            "evse_uid": "CS1*1"}  # fmt: skip
    answer = await world.command("START_SESSION", body)
    assert answer.json()["data"] == {"result": "ACCEPTED", "timeout": 1}
    await world.settle()
    name, request = world.gateway.calls[0]
    assert (name, request.station_id, request.evse_id, request.id_token.id) == (
        "StartCharging", "CS1", 1, "TOK9",
    )  # fmt: skip
    assert world.sink.results["s1"] == {"result": "ACCEPTED"}
    kept = await tokens_of(world.ctx).find("TOK9")
    assert [k.partner_id for k in kept] == ["emsp1"]  # its session will be the partner's


async def test_a_station_that_does_not_answer_in_time_is_a_timeout(world: World) -> None:
    world.gateway.delay_s = 2.0
    body = {"response_url": f"{RESULTS}/u1", "location_id": "SITE1", "evse_uid": "CS1*1",
            "connector_id": "1"}  # fmt: skip
    assert (await world.command("UNLOCK_CONNECTOR", body)).json()["data"]["result"] == "ACCEPTED"
    await world.settle()
    assert world.sink.results["u1"]["result"] == "TIMEOUT"


async def test_stop_session_of_the_partners_session_and_unknown_ones(world: World) -> None:
    flows = Flows(world.ctx.sessions, world.ctx.clock, world.ctx.outbox, world.ctx.partners,
                  tokens_of(world.ctx), ("DE", "CGR"))  # fmt: skip
    await tokens_of(world.ctx).remember("emsp1", OcpiToken.model_validate(a_token("TOK1")))
    await flows.batch([event("session.opened", a_session(), "e1")])
    world.gateway.status = "Rejected"
    stop = await world.command(
        "STOP_SESSION", {"response_url": f"{RESULTS}/x", "session_id": "CS1:tx-1"}
    )
    unknown = await world.command(
        "STOP_SESSION", {"response_url": f"{RESULTS}/y", "session_id": "NOPE"}
    )
    await world.settle()
    assert stop.json()["data"]["result"] == "ACCEPTED"
    assert unknown.json()["data"]["result"] == "UNKNOWN_SESSION"
    request = world.gateway.calls[0][1]
    assert (request.station_id, request.transaction_id) == ("CS1", "tx-1")
    assert world.sink.results == {"x": {"result": "REJECTED"}}


async def test_reserve_then_cancel_reach_the_same_station(world: World) -> None:
    reserve = {
        "response_url": f"{RESULTS}/r1",
        "token": a_token(),
        "location_id": "SITE1",
        "evse_uid": "CS1*1",
        "reservation_id": "77",
        "expiry_date": "2026-12-07T12:00:00Z",
    }
    assert (await world.command("RESERVE_NOW", reserve)).json()["data"]["result"] == "ACCEPTED"
    cancel = {"response_url": f"{RESULTS}/c1", "reservation_id": "77"}
    assert (await world.command("CANCEL_RESERVATION", cancel)).json()["data"][
        "result"
    ] == "ACCEPTED"
    await world.settle()
    (r_name, r), (c_name, c) = world.gateway.calls
    assert (r_name, r.station_id, r.reservation_id, c_name, c.reservation_id) == (
        "ReserveNow", "CS1", 77, "CancelReservation", 77,
    )  # fmt: skip
    assert set(world.sink.results) == {"r1", "c1"}


async def test_bad_commands_are_refused_and_reach_no_station(world: World) -> None:
    unknown = await world.command("SELF_DESTRUCT", {"response_url": f"{RESULTS}/z"})
    no_url = await world.command("START_SESSION", {"token": a_token(), "location_id": "SITE1"})
    bad_token = await world.command("START_SESSION", {"response_url": f"{RESULTS}/b",
        "token": {**a_token(), "whitelist": "SOMETIMES"}, "location_id": "SITE1"})  # fmt: skip
    other_party = await world.command("START_SESSION", {"response_url": f"{RESULTS}/b",
        "token": {**a_token(), "party_id": "XYZ"}, "location_id": "SITE1"})  # fmt: skip
    nowhere = await world.command("UNLOCK_CONNECTOR", {"response_url": f"{RESULTS}/n",
        "location_id": "NOWHERE", "evse_uid": "X*1", "connector_id": "1"})  # fmt: skip
    no_reservation = await world.command("CANCEL_RESERVATION",
        {"response_url": f"{RESULTS}/n", "reservation_id": "5"})  # fmt: skip
    assert (unknown.status_code, unknown.json()["status_code"]) == (404, 2000)
    for answer in (no_url, bad_token, other_party):
        assert (answer.status_code, answer.json()["status_code"]) == (400, 2001), answer.text
    assert (nowhere.status_code, nowhere.json()["status_code"]) == (404, 2003)
    assert no_reservation.status_code == 404
    await world.settle()
    assert world.gateway.calls == []
    assert await tokens_of(world.ctx).find("TOK9") == []


async def test_a_command_cut_off_by_a_restart_is_answered_timeout_once(world: World) -> None:
    world.gateway.delay_s = 5.0
    body = {"response_url": f"{RESULTS}/u2", "location_id": "SITE1", "evse_uid": "CS1*1",
            "connector_id": "1"}  # fmt: skip
    assert (await world.command("UNLOCK_CONNECTOR", body)).json()["data"]["result"] == "ACCEPTED"
    await asyncio.sleep(0.1)
    await world.runner.stop()  # the process stops while the station has not answered
    later = lambda: datetime.now(UTC) + timedelta(minutes=1)  # noqa: E731
    restarted = CommandRunner(None, world.ctx.sessions, world.ctx.outbox, later, timeout_s=0.5)
    assert await restarted.recover() == 1
    assert await restarted.recover() == 0  # answered once, not at every round
    await world.settle()
    assert world.sink.results == {
        "u2": {"result": "TIMEOUT", "message": [
            {"language": "en", "text": "the CPO restarted before the station answered"}]},
    }  # fmt: skip


async def test_a_result_the_partner_missed_is_delivered_when_it_is_back(world: World) -> None:
    transport = world.http._transport
    assert isinstance(transport, RoutingTransport)
    transport.down.add("emsp.test")
    body = {"response_url": f"{RESULTS}/s2", "token": a_token(), "location_id": "SITE1",
            "evse_uid": "CS1*1"}  # fmt: skip
    await world.command("START_SESSION", body)
    await world.settle()
    assert world.sink.results == {}
    transport.down.discard("emsp.test")
    async with world.ctx.sessions.begin() as session:  # its retry time has come
        await session.execute(update(OutboxRow).values(next_attempt_at=datetime.now(UTC)))
    await world.settle()
    assert world.sink.results == {"s2": {"result": "ACCEPTED"}}


async def test_a_reservation_is_cancelled_after_a_restart_in_any_case(
    world: World, database_url: str
) -> None:
    reserve = {"response_url": f"{RESULTS}/r2", "token": a_token(), "location_id": "SITE1",
               "evse_uid": "CS1*1", "reservation_id": "res-9",
               "expiry_date": "2026-12-07T12:00:00Z"}  # fmt: skip
    assert (await world.command("RESERVE_NOW", reserve)).json()["data"]["result"] == "ACCEPTED"
    await world.settle()
    transport = world.http._transport
    assert isinstance(transport, RoutingTransport)
    restarted = await build_context(database_url, transport)  # routes cpo.test to a new app
    restarted.services["commands"] = world.runner
    try:
        cancel = {"response_url": f"{RESULTS}/c2", "reservation_id": "RES-9"}
        answer = await world.command("CANCEL_RESERVATION", cancel)
        assert answer.json()["data"]["result"] == "ACCEPTED", answer.text
        await world.settle()
    finally:
        await close_context(restarted)
    (_, reserved), (name, cancelled) = world.gateway.calls
    assert (name, cancelled.station_id, cancelled.reservation_id) == (
        "CancelReservation", "CS1", reserved.reservation_id,
    )  # fmt: skip
    await world.ctx.partners.remove("emsp1")  # its commands and reservations go with it
    async with world.ctx.sessions() as session:
        left = [await session.scalar(select(func.count()).select_from(t))
                for t in (CommandRow, ReservationRow)]  # fmt: skip
    assert left == [0, 0]
