"""Roaming through the whole `chargegrid dev` stack with an independent eMSP (extrawest-ocpi).

The peer registers with a token A from `chargegrid roaming partners add`, pushes a token, and
a simulated station charges with it: the authorization service asks roaming (the token is
the partner's), the session service's events reach the peer as Session pushes and billing's
CDR as exactly one CDR whose cost is billing's. A second token the peer never pushed is
authorized in real time through a station. Every request the peer received parsed with its
own models. (Commands and status pushes are covered against the peer in
tests/integration/roaming and tests/unit/roaming; here the stack has no sites to locate.)
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest

from chargegrid.api.billing.v1 import billing_pb2 as billing_pb
from chargegrid.api.billing.v1 import billing_pb2_grpc as billing_grpc
from chargegrid.platform.grpc import create_channel
from chargegrid.simulator import EVSpec, StationConfig, StopReason, create_station
from tests.e2e.conftest import Stack
from tests.fixtures.ocpi_peer.peer import OcpiPeer, refused, running_peer

pytestmark = pytest.mark.timeout(900)


def a_token(uid: str, whitelist: str) -> dict[str, Any]:
    return {
        "country_code": "NL", "party_id": "EMS", "uid": uid, "type": "RFID",
        "contract_id": f"NL-EMS-{uid}", "issuer": "Independent eMSP", "valid": True,
        "whitelist": whitelist,
        "last_updated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }  # fmt: skip


@pytest.fixture(scope="module")
def peer(request: pytest.FixtureRequest) -> Iterator[OcpiPeer]:
    with running_peer(request.config.cache.mkdir("ocpi_peer")) as running:
        yield running


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    running = Stack(
        tmp_path_factory.mktemp("roaming"),
        env={"CHARGEGRID_ROAMING_OUTBOX_POLL_INTERVAL_S": "0.2"},
    )
    try:
        await asyncio.to_thread(running.wait_for_output, "admin API token")
        yield running
    finally:
        running.stop()


async def until(check: Any, timeout_s: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = await check()
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


async def charge(stack: Stack, station_id: str, id_tag: str, seconds: float) -> str:
    config = StationConfig(station_id=station_id, meter_interval_s=0.5, time_scale=1.0)
    station = create_station("1.6", config, stack.ocpp_url)
    await station.start()
    try:
        await station.wait_registered(30)
        session = station.plug_in(1, ev=EVSpec(capacity_kwh=80, max_power_w=11_000), id_tag=id_tag)
        await asyncio.wait_for(session.transaction_started.wait(), 30)
        await asyncio.sleep(seconds)
        session.request_stop(StopReason.LOCAL)
        await asyncio.wait_for(session.finished.wait(), 30)
        return f"{station_id}:{session.transaction_id}"
    finally:
        await station.stop()


async def billing_cdr(stack: Stack, session_id: str) -> billing_pb.Cdr:
    channel = create_channel(stack.address("billing"), token=stack.admin_token)
    try:
        stub = billing_grpc.BillingStub(channel)
        async with asyncio.timeout(90):
            while True:
                try:
                    return await stub.GetCdr(billing_pb.GetCdrRequest(session_id=session_id))
                except grpc.aio.AioRpcError as exc:
                    if exc.code() != grpc.StatusCode.NOT_FOUND:
                        raise
                    await asyncio.sleep(0.5)
    finally:
        await channel.close()


def by_id(objects: dict[str, Any], object_id: str) -> Any:
    return next((v for k, v in objects.items() if k.upper() == object_id.upper()), None)


async def test_an_independent_emsp_roams_on_the_stack(
    stack: Stack, peer: OcpiPeer, tmp_path: Path
) -> None:
    added = json.loads(stack.cli("roaming", "partners", "add", "peer", "--json").stdout)
    registered = await peer.register(added["versions_url"], added["token_a"])
    assert registered["body"]["status_code"] == 1000, registered
    tariff = {"id": "T-ROAM", "currency": "EUR", "vat_percent": "19",
              "elements": [{"price_components": [
                  {"type": "PRICE_COMPONENT_TYPE_ENERGY", "price": "0.30"},
                  {"type": "PRICE_COMPONENT_TYPE_FLAT", "price": "0.50"}]}]}  # fmt: skip
    (tmp_path / "tariff.json").write_text(json.dumps(tariff))
    stack.cli("tariffs", "add", str(tmp_path / "tariff.json"))
    stack.cli("tariffs", "assign", "T-ROAM", "--default", "--from", "2020-01-01T00:00:00Z")

    uid = f"R{uuid.uuid4().hex[:8].upper()}"
    pushed = await peer.call("PUT", "tokens", f"/NL/EMS/{uid}", json=a_token(uid, "ALLOWED"))
    assert (pushed["http_status"], pushed["body"]["status_code"]) == (200, 1000), pushed
    session_id = await charge(stack, f"RO-{uuid.uuid4().hex[:6]}", uid, 4)
    cdr = await billing_cdr(stack, session_id)

    async def session_and_cdr() -> bool:
        stored = await peer.stored()
        session = by_id(stored["sessions"], session_id)
        return bool(session and session["status"] == "COMPLETED" and stored["cdrs"])

    assert await until(session_and_cdr), await peer.received()
    stored = await peer.stored()
    assert [k.upper() for k in stored["cdrs"]] == [cdr.id.upper()]
    theirs = by_id(stored["cdrs"], cdr.id)
    assert theirs["total_cost"]["incl_vat"] == pytest.approx(float(cdr.cost.total_incl_vat))
    assert theirs["total_cost"]["excl_vat"] == pytest.approx(float(cdr.cost.total_excl_vat))
    assert theirs["cdr_token"]["uid"].upper() == uid

    realtime = f"T{uuid.uuid4().hex[:8].upper()}"
    await peer.hold_token(a_token(realtime, "NEVER"), allowed="ALLOWED")
    await charge(stack, f"RT-{uuid.uuid4().hex[:6]}", realtime, 1)
    asked = [r for r in await peer.received() if r["path"].endswith(f"/{realtime}/authorize")]
    # NEVER: the partner is asked at every presentation (Authorize, start, stop).
    assert asked
    assert {r["status"] for r in asked} == {200}

    assert refused(await peer.received()) == []
