"""Roaming through the whole `chargegrid dev` stack with an independent eMSP (extrawest-ocpi).

The peer registers with a token A from `chargegrid roaming partners add`, pushes a token, and
a simulated station charges with it: the authorization service asks roaming (the token is
the partner's), the session service's events reach the peer as Session pushes and billing's
CDR as exactly one CDR whose cost is billing's. A second token the peer never pushed is
authorized in real time through a station. Every request the peer received parsed with its
own models. A second stack, with roaming's database on PostgreSQL, gives the peer a location
whose station's status change reaches it and that it steers with START_SESSION and
STOP_SESSION, their CommandResults coming back through the outbox.
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


def start_stack(tmp_path: Path, database_url: str | None = None) -> Stack:
    env = {
        "CHARGEGRID_ROAMING_OUTBOX_POLL_INTERVAL_S": "0.2",
        "CHARGEGRID_ROAMING_LOCATIONS_SYNC_INTERVAL_S": "2",
    }
    if database_url:  # roaming on PostgreSQL, the rest of the stack as `make run` has it
        env["CHARGEGRID_ROAMING_DATABASE_URL"] = database_url
    tmp_path.mkdir(parents=True, exist_ok=True)
    running = Stack(tmp_path, env=env)
    running.wait_for_output("admin API token")
    return running


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    """The stack with every database on SQLite (the `make run` default)."""
    running = await asyncio.to_thread(start_stack, tmp_path / "stack")
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def postgres_stack(tmp_path: Path, postgres_url: str) -> AsyncIterator[Stack]:
    """The stack with roaming's database on PostgreSQL (CI's)."""
    running = await asyncio.to_thread(start_stack, tmp_path / "stack", postgres_url)
    try:
        yield running
    finally:
        running.stop()


async def register(stack: Stack, peer: OcpiPeer) -> OcpiPeer:
    """The peer, registered with the token A an operator created for it."""
    await peer.reset()
    added = json.loads(stack.cli("roaming", "partners", "add", "peer", "--json").stdout)
    answer = await peer.register(added["versions_url"], added["token_a"])
    assert answer["body"]["status_code"] == 1000, answer
    return peer


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
    peer = await register(stack, peer)
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


async def test_the_emsp_sees_locations_and_status_and_steers_a_station_roaming_on_postgres(
    postgres_stack: Stack, peer: OcpiPeer
) -> None:
    stack = postgres_stack
    peer = await register(stack, peer)
    site, station_id = f"S{uuid.uuid4().hex[:6].upper()}", f"RC-{uuid.uuid4().hex[:6]}"
    stack.cli("sites", "add", "Roaming site", "--id", site, "--street", "Hauptstr. 1",
              "--city", "Berlin", "--country", "DE", "--latitude", "52.52",
              "--longitude", "13.40")  # fmt: skip
    stack.cli("stations", "add", station_id, "--site", site)
    uid = f"C{uuid.uuid4().hex[:8].upper()}"
    await peer.call("PUT", "tokens", f"/NL/EMS/{uid}", json=a_token(uid, "ALLOWED"))
    config = StationConfig(station_id=station_id, meter_interval_s=0.5, time_scale=1.0)
    station = create_station("1.6", config, stack.ocpp_url)
    await station.start()
    try:
        await station.wait_registered(30)

        async def location_with_evse() -> Any:
            location = by_id((await peer.stored())["locations"], site)
            return location if location and location.get("evses") else None

        location = await until(location_with_evse)
        assert location, await peer.received()
        evse_uid = location["evses"][0]["uid"]
        pulled = await peer.call("GET", "locations", params={"limit": 100}, model="locations")
        assert pulled["errors"] == []
        assert site.upper() in [loc["id"].upper() for loc in pulled["body"]["data"]]

        results = registered_results_url(peer)
        start = await peer.call("POST", "commands", "/START_SESSION", model="command_response",
                                json={"response_url": f"{results}/START1",
                                      "token": a_token(uid, "ALLOWED"), "location_id": site,
                                      "evse_uid": evse_uid, "connector_id": "1"})  # fmt: skip
        assert start["http_status"] == 200, start
        assert start["body"]["data"]["result"] == "ACCEPTED", start

        async def started() -> Any:
            stored = await peer.stored()
            sessions = [s for s in stored["sessions"].values() if s["evse_uid"].upper()
                        == evse_uid.upper() and s["status"] == "ACTIVE"]  # fmt: skip
            return sessions[0] if sessions and "START1" in _results(stored) else None

        session = await until(started)
        assert session, await peer.received()
        assert _results(await peer.stored())["START1"]["result"] == "ACCEPTED"

        async def status_patched() -> bool:
            return any(
                r["method"] == "PATCH"
                and evse_uid.upper() in r["path"].upper()
                and r["body"].get("status") == "CHARGING"
                for r in await peer.received()
            )

        assert await until(status_patched), await peer.received()
        stop = await peer.call("POST", "commands", "/STOP_SESSION", model="command_response",
                               json={"response_url": f"{results}/STOP1",
                                     "session_id": session["id"]})  # fmt: skip
        assert stop["body"]["data"]["result"] == "ACCEPTED", stop

        async def stopped() -> bool:
            return "STOP1" in _results(await peer.stored())

        assert await until(stopped), await peer.received()
        assert _results(await peer.stored())["STOP1"]["result"] == "ACCEPTED"
    finally:
        await station.stop()
    assert refused(await peer.received()) == []


def registered_results_url(peer: OcpiPeer) -> str:
    """Where the peer takes CommandResults: its commands endpoint (SENDER of commands)."""
    return f"{peer.base}/ocpi/emsp/2.2.1/commands"


def _results(stored: dict[str, Any]) -> dict[str, Any]:
    return {k.upper(): v for k, v in stored.get("command_results", {}).items()}
