"""Transactions a station loses free its card again, through the whole `make run` stack.

Raw OCPP 1.6 and 2.0.1 clients talk to the real gateway process, so every message (a
reboot without a StopTransaction, a start on a connector that still "has" a transaction,
a late stop, a 2.x station answering GetTransactionStatus after a reboot) is exactly what a
certification lab sends. The session service closes what the station lost; authorization
learns it from session.events.v1; billing bills it once.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import websockets

from chargegrid.api.billing.v1 import billing_pb2 as billing_pb
from chargegrid.api.billing.v1 import billing_pb2_grpc as billing_grpc
from chargegrid.api.session.v1 import session_pb2 as session_pb
from chargegrid.api.session.v1 import session_pb2_grpc as session_grpc
from chargegrid.platform.grpc import create_channel
from chargegrid.platform.ports import metrics_port_for
from tests.e2e.conftest import Stack
from tests.e2e.test_registry_and_authorization import (
    SUBPROTOCOL,
    exchange,
    next_csms_call,
    raw_authorize,
)


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    # A short grace for the Ended of a normal stop before an Available closes the session.
    grace = {"CHARGEGRID_SESSION_OUTLET_FREE_GRACE_S": "2"}
    running = Stack(tmp_path_factory.mktemp("lost"), env=grace)
    try:
        await asyncio.to_thread(running.wait_for_output, "admin API token")
        yield running
    finally:
        running.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 30) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():
            await asyncio.sleep(0.3)


class RawStation:
    """One OCPP connection; `reboot` closes it and boots again on a new one."""

    def __init__(self, stack: Stack, version: str, station_id: str) -> None:
        self.stack, self.version, self.id = stack, version, station_id
        self.ws: Any = None
        self._n = 0
        self.seq = 0

    async def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        self._n += 1
        reply = await exchange(self.ws, [2, f"m{self._n}", action, payload])
        assert reply[0] == 3, f"{action} answered {reply}"
        answer: dict[str, Any] = reply[2]
        return answer

    async def connect(self) -> None:
        self.ws = await websockets.connect(
            f"{self.stack.ocpp_url}/{self.id}", subprotocols=[SUBPROTOCOL[self.version]]
        )
        if self.version == "1.6":
            boot: dict[str, Any] = {"chargePointVendor": "E2E", "chargePointModel": "Raw"}
        else:
            boot = {"reason": "PowerUp", "chargingStation": {"vendorName": "E2E", "model": "Raw"}}
        assert (await self.call("BootNotification", boot))["status"] == "Accepted"

    async def reboot(self) -> None:
        """Power cut: no StopTransaction / Ended, a new connection, a new boot."""
        await self.ws.close()
        await self.connect()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    # --- 1.6 -------------------------------------------------------------------------------
    async def start16(self, tag: str, meter_wh: int, connector: int = 1) -> tuple[str, str]:
        """StartTransaction: (transaction id, idTagInfo status)."""
        answer = await self.call(
            "StartTransaction",
            {"connectorId": connector, "idTag": tag, "meterStart": meter_wh, "timestamp": now()},
        )
        return str(answer["transactionId"]), str(answer["idTagInfo"]["status"])

    async def stop16(self, transaction_id: str, tag: str, meter_wh: int) -> str:
        payload = {
            "transactionId": int(transaction_id),
            "idTag": tag,
            "meterStop": meter_wh,
            "timestamp": now(),
            "reason": "Local",
        }
        return str((await self.call("StopTransaction", payload))["idTagInfo"]["status"])

    # --- 2.0.1 -----------------------------------------------------------------------------
    async def event201(
        self, kind: str, transaction_id: str, tag: str, wh: float, evse: int = 1
    ) -> str:
        """TransactionEvent with the token and an energy register reading: its status."""
        self.seq += 1
        payload: dict[str, Any] = {
            "eventType": kind,
            "timestamp": now(),
            "triggerReason": "Authorized" if kind == "Started" else "StopAuthorized",
            "seqNo": self.seq,
            "transactionInfo": {"transactionId": transaction_id, "chargingState": "Charging"},
            "evse": {"id": evse, "connectorId": 1},
            "idToken": {"idToken": tag, "type": "ISO14443"},
            "meterValue": [
                {
                    "timestamp": now(),
                    "sampledValue": [{"value": wh, "measurand": "Energy.Active.Import.Register"}],
                }
            ],
        }
        if kind == "Ended":
            payload["transactionInfo"]["stoppedReason"] = "Local"
        return str((await self.call("TransactionEvent", payload))["idTokenInfo"]["status"])

    async def available201(self, evse: int = 1) -> None:
        await self.call(
            "StatusNotification",
            {"timestamp": now(), "connectorStatus": "Available", "evseId": evse, "connectorId": 1},
        )


@asynccontextmanager
async def raw_station(stack: Stack, version: str, prefix: str) -> AsyncIterator[RawStation]:
    station = RawStation(stack, version, unique(prefix))
    await station.connect()
    try:
        yield station
    finally:
        await station.close()


class Services:
    def __init__(self, stack: Stack) -> None:
        self.session_channel = create_channel(stack.address("session"), token=stack.admin_token)
        self.billing_channel = create_channel(stack.address("billing"), token=stack.admin_token)
        self.sessions = session_grpc.SessionsStub(self.session_channel)
        self.billing = billing_grpc.BillingStub(self.billing_channel)

    async def session(self, station_id: str, transaction_id: str) -> session_pb.Session | None:
        request = session_pb.GetSessionRequest(station_id=station_id, transaction_id=transaction_id)
        try:
            found: session_pb.Session = await self.sessions.GetSession(request)
        except Exception:  # not there yet: the session service is an event behind
            return None
        return found

    async def wait_closed(
        self, station_id: str, transaction_id: str, *reasons: str
    ) -> session_pb.Session:
        """The session once closed interrupted, for one of `reasons`."""
        found: list[session_pb.Session] = []

        async def closed() -> bool:
            got = await self.session(station_id, transaction_id)
            if got is not None and got.status == session_pb.SESSION_STATUS_INTERRUPTED:
                found.append(got)
            return bool(found)

        await eventually(closed)
        assert found[0].stop_reason in reasons
        return found[0]

    async def cdrs_of(self, session_id: str) -> list[billing_pb.Cdr]:
        station_id = session_id.split(":")[0]
        reply = await self.billing.ListCdrs(billing_pb.ListCdrsRequest(station_id=station_id))
        return [c for c in reply.cdrs if c.session_id == session_id]

    async def close(self) -> None:
        await self.session_channel.close()
        await self.billing_channel.close()


@pytest.fixture
async def services(stack: Stack) -> AsyncIterator[Services]:
    made = Services(stack)
    try:
        yield made
    finally:
        await made.close()


async def authorized_at_another_station(stack: Stack, version: str, tag: str, want: str) -> None:
    async def answered() -> bool:
        return await raw_authorize(stack, version, unique("ELSE"), tag) == want

    await eventually(answered)


async def test_a_1_6_station_rebooting_mid_transaction_twice_leaves_the_card_free(
    stack: Stack, services: Services
) -> None:
    tag = unique("CARD16")
    stack.cli("tokens", "add", tag)
    async with raw_station(stack, "1.6", "REBOOT16") as station:
        first, status = await station.start16(tag, 1000)
        assert status == "Accepted"
        await station.reboot()
        # Straight after the boot, on the same connector: not ConcurrentTx.
        second, status = await station.start16(tag, 1000)
        assert status == "Accepted"
        # The boot and the start are on different topics: whichever is handled first closes it.
        lost = await services.wait_closed(station.id, first, "Reboot", "NewTransaction")
        await station.reboot()
        third, status = await station.start16(tag, 1000)
        assert status == "Accepted"
        await services.wait_closed(station.id, second, "Reboot", "NewTransaction")
        # Again, without any stop, on the same connection and connector.
        fourth, status = await station.start16(tag, 1000)
        assert status == "Accepted"
        await services.wait_closed(station.id, third, "NewTransaction")
        # The card is in one transaction (the fourth) and is concurrent elsewhere.
        await authorized_at_another_station(stack, "1.6", tag, "ConcurrentTx")

        # The lost first transaction's StopTransaction arrives late: Accepted, amends it.
        await _one_cdr(services, lost.id)
        assert await station.stop16(first, tag, 4000) == "Accepted"

        async def amended() -> bool:
            got = await services.session(station.id, first)
            return got is not None and got.meter_stop_wh == 4000

        await eventually(amended)
        got = await services.session(station.id, first)
        assert got is not None
        assert got.status == session_pb.SESSION_STATUS_INTERRUPTED
        assert got.energy_wh == 3000
        await asyncio.sleep(2)  # time for a second CDR to appear, were one made
        assert len(await services.cdrs_of(lost.id)) == 1
        assert (await services.session(station.id, fourth)) is not None


async def _one_cdr(services: Services, session_id: str) -> bool:
    async def billed() -> bool:
        return len(await services.cdrs_of(session_id)) == 1

    await eventually(billed)
    return True


async def test_a_2_0_1_station_rebooting_mid_transaction_twice_leaves_the_card_free(
    stack: Stack, services: Services
) -> None:
    tag = unique("CARD201")
    stack.cli("tokens", "add", tag)
    async with raw_station(stack, "2.0.1", "REBOOT201") as station:
        assert await station.event201("Started", "T1", tag, 1000) == "Accepted"
        await station.reboot()
        await station.available201()  # the station lost T1: its EVSE is free
        lost = await services.wait_closed(station.id, "T1", "ConnectorAvailable")
        assert await station.event201("Started", "T2", tag, 1000) == "Accepted"
        await station.reboot()  # a 2.x boot alone closes nothing: the station may resume T2

        async def opened() -> bool:
            return await services.session(station.id, "T2") is not None

        await eventually(opened)
        await asyncio.sleep(1.5)  # time for the boot to be handled
        resumable = await services.session(station.id, "T2")
        assert resumable is not None
        assert resumable.status == session_pb.SESSION_STATUS_ACTIVE
        # No status this time: the next start on the EVSE shows T2 was lost.
        assert await station.event201("Started", "T3", tag, 1000) == "Accepted"
        await services.wait_closed(station.id, "T2", "NewTransaction")
        await authorized_at_another_station(stack, "2.0.1", tag, "ConcurrentTx")

        await _one_cdr(services, lost.id)
        assert await station.event201("Ended", "T1", tag, 2500) == "Accepted"

        async def amended() -> bool:
            got = await services.session(station.id, "T1")
            return got is not None and got.meter_stop_wh == 2500

        await eventually(amended)
        await asyncio.sleep(2)
        assert len(await services.cdrs_of(lost.id)) == 1

        # The operator ends T3 (the station never will): the card is free everywhere.
        ended = stack.cli("sessions", "end", f"{station.id}:T3")
        assert "ended" in ended.stdout
        await services.wait_closed(station.id, "T3", "EndedByOperator")
        await authorized_at_another_station(stack, "2.0.1", tag, "Accepted")
        again = stack.cli("sessions", "end", f"{station.id}:T3", check=False)
        assert again.returncode != 0
        assert "already interrupted" in again.stdout + again.stderr


async def answer_transaction_status(
    station: RawStation, transaction_id: str, ongoing: bool
) -> None:
    """Answer the GetTransactionStatus the CSMS sends about `transaction_id` after a boot."""
    call = await next_csms_call(station.ws, "GetTransactionStatus")
    assert call[3] == {"transactionId": transaction_id}
    answer = {"ongoingIndicator": ongoing, "messagesInQueue": False}
    await station.ws.send(json.dumps([3, call[1], answer]))


def checks_counted(stack: Stack, result: str) -> float:
    """The session service's count of GetTransactionStatus checks with `result`."""
    url = f"http://127.0.0.1:{metrics_port_for('session') + stack.offset}/metrics"
    with urllib.request.urlopen(url, timeout=5) as reply:
        text = reply.read().decode()
    line = f'chargegrid_session_transaction_status_checks_total{{result="{result}"}} '
    found = [row for row in text.splitlines() if row.startswith(line)]
    return float(found[0].split()[-1]) if found else 0.0


async def started_and_counted(
    stack: Stack, services: Services, station: RawStation, transaction_id: str, tag: str
) -> None:
    """A 2.0.1 transaction the session service has opened and authorization counts."""
    assert await station.event201("Started", transaction_id, tag, 1000) == "Accepted"

    async def opened() -> bool:
        return await services.session(station.id, transaction_id) is not None

    await eventually(opened)
    await authorized_at_another_station(stack, "2.0.1", tag, "ConcurrentTx")


async def test_a_2_0_1_station_saying_after_a_reboot_it_lost_the_transaction_frees_the_card(
    stack: Stack, services: Services
) -> None:
    tag = unique("CARDGTS")
    stack.cli("tokens", "add", tag)
    async with raw_station(stack, "2.0.1", "GTSLOST") as station:
        await started_and_counted(stack, services, station, "T1", tag)
        await station.reboot()
        await answer_transaction_status(station, "T1", ongoing=False)
        lost = await services.wait_closed(station.id, "T1", "NotOngoing")
        await _one_cdr(services, lost.id)
        await authorized_at_another_station(stack, "2.0.1", tag, "Accepted")
        await asyncio.sleep(2)  # time for a second CDR to appear, were one made
        assert len(await services.cdrs_of(lost.id)) == 1


async def test_a_2_0_1_station_saying_after_a_reboot_the_transaction_goes_on_keeps_it_open(
    stack: Stack, services: Services
) -> None:
    tag = unique("CARDGTS")
    stack.cli("tokens", "add", tag)
    async with raw_station(stack, "2.0.1", "GTSGOES") as station:
        await started_and_counted(stack, services, station, "T1", tag)
        before = await asyncio.to_thread(checks_counted, stack, "ongoing")
        await station.reboot()
        await answer_transaction_status(station, "T1", ongoing=True)

        async def heard() -> bool:
            return await asyncio.to_thread(checks_counted, stack, "ongoing") > before

        await eventually(heard)  # the session service got the answer and kept the session
        resumed = await services.session(station.id, "T1")
        assert resumed is not None
        assert resumed.status == session_pb.SESSION_STATUS_ACTIVE
        await authorized_at_another_station(stack, "2.0.1", tag, "ConcurrentTx")


async def test_a_fleet_card_holds_three_transactions_and_is_concurrent_on_a_fourth(
    stack: Stack, services: Services
) -> None:
    tag = unique("FLEET")
    stack.cli("tokens", "add", tag)
    stack.cli("tokens", "update", tag, "--max-concurrent", "3")
    assert '"max_concurrent_transactions": 3' in stack.cli("tokens", "show", tag, "--json").stdout
    async with (
        raw_station(stack, "1.6", "FLT1") as one,
        raw_station(stack, "1.6", "FLT2") as two,
        raw_station(stack, "2.0.1", "FLT3") as three,
        raw_station(stack, "1.6", "FLT4") as four,
    ):
        first, status_1 = await one.start16(tag, 0)
        second, status_2 = await two.start16(tag, 0)
        assert (status_1, status_2) == ("Accepted", "Accepted")

        async def opened(station_id: str, transaction_id: str) -> bool:
            return await services.session(station_id, transaction_id) is not None

        await eventually(lambda: opened(one.id, first))
        await eventually(lambda: opened(two.id, second))
        await authorized_at_another_station(stack, "1.6", tag, "Accepted")
        assert await three.event201("Started", "F3", tag, 0) == "Accepted"
        await authorized_at_another_station(stack, "1.6", tag, "ConcurrentTx")
        _, status_4 = await four.start16(tag, 0)
        assert status_4 == "ConcurrentTx"


@pytest.fixture
async def strict_stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """A stack whose gateway refuses unknown tokens while authorization is away (the
    production default; `make run` accepts them)."""
    running = Stack(tmp_path, env={"CHARGEGRID_GATEWAY_AUTHORIZE_FALLBACK": "invalid"})
    try:
        await asyncio.to_thread(running.wait_for_output, "admin API token")
        yield running
    finally:
        running.stop()


async def test_the_gateway_fallback_caches_only_what_a_token_is(strict_stack: Stack) -> None:
    stack = strict_stack
    busy, blocked, expiring = unique("BUSY"), unique("BLOCKED"), unique("SOON")
    stack.cli("tokens", "add", busy)
    stack.cli("tokens", "add", blocked, "--status", "Blocked")
    expiry = datetime.now(UTC) + timedelta(seconds=20)
    stack.cli("tokens", "add", expiring, "--expires", expiry.isoformat())
    for tag, want in ((busy, "Accepted"), (blocked, "Blocked"), (expiring, "Accepted")):
        assert await raw_authorize(stack, "1.6", unique("CACHE"), tag) == want
    async with raw_station(stack, "1.6", "BUSYAT") as station:
        _, status = await station.start16(busy, 0)
        assert status == "Accepted"
        await authorized_at_another_station(stack, "1.6", busy, "ConcurrentTx")
        authorization = stack.service_pid("authorization")
        os.kill(authorization, signal.SIGSTOP)
        try:
            # Authorization cannot answer: the gateway answers from what it remembered.
            assert await raw_authorize(stack, "1.6", unique("DOWN"), busy) == "Accepted"
            assert await raw_authorize(stack, "1.6", unique("DOWN"), blocked) == "Blocked"
            assert await raw_authorize(stack, "1.6", unique("DOWN"), unique("NEVER")) == ("Invalid")
            await asyncio.sleep(max(0.0, (expiry - datetime.now(UTC)).total_seconds()) + 0.5)
            assert await raw_authorize(stack, "1.6", unique("DOWN"), expiring) == "Expired"
        finally:
            os.kill(authorization, signal.SIGCONT)
