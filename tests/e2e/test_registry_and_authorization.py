"""Stations and tokens managed as an operator would, through the whole `make run` stack.

Real simulated stations (1.6 and 2.0.1) and raw OCPP clients talk to the gateway process;
the stations and authorization services decide over gRPC and learn from Kafka; the operator
uses the `chargegrid` CLI and the gRPC API with the admin token.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from chargegrid.api.authorization.v1 import authorization_pb2 as authz_pb
from chargegrid.api.authorization.v1 import authorization_pb2_grpc as authz_grpc
from chargegrid.api.gateway.v1 import station_control_pb2 as control_pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as control_grpc
from chargegrid.api.stations.v1 import stations_pb2 as stations_pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as stations_grpc
from chargegrid.platform.grpc import create_channel
from chargegrid.simulator import EVSpec, StationConfig, StopReason, create_station
from chargegrid.simulator.station import Station
from tests.e2e.conftest import Stack

SUBPROTOCOL = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("registry"))
    try:
        await asyncio.to_thread(running.wait_for_output, "admin API token")
        yield running
    finally:
        running.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float = 30) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():
            await asyncio.sleep(0.3)


def channel(stack: Stack, service: str) -> grpc.aio.Channel:
    return create_channel(stack.address(service), token=stack.admin_token)


async def exchange(ws: Any, call: list[Any]) -> list[Any]:
    """Send `call` and return its answer; CALLs from the CSMS meanwhile get NotImplemented."""
    await ws.send(json.dumps(call))
    while True:
        message = json.loads(await ws.recv())
        if message[0] == 2:
            await ws.send(json.dumps([4, message[1], "NotImplemented", "", {}]))
        elif message[1] == call[1]:
            return list(message)


async def next_csms_call(ws: Any, action: str, timeout_s: float = 20) -> list[Any]:
    """The next CALL of `action` from the CSMS; other CALLs meanwhile get NotImplemented."""
    async with asyncio.timeout(timeout_s):
        while True:
            message = json.loads(await ws.recv())
            if message[0] == 2 and message[2] == action:
                return list(message)
            if message[0] == 2:
                await ws.send(json.dumps([4, message[1], "NotImplemented", "", {}]))


async def raw_authorize(stack: Stack, version: str, station_id: str, tag: str) -> str:
    """Boot a bare OCPP client and present `tag`: the status the CSMS answers."""
    async with websockets.connect(
        f"{stack.ocpp_url}/{station_id}", subprotocols=[SUBPROTOCOL[version]]
    ) as ws:
        boot: dict[str, Any]
        if version == "1.6":
            boot = {"chargePointVendor": "E2E", "chargePointModel": "Raw"}
            authorize: dict[str, Any] = {"idTag": tag}
        else:
            boot = {"reason": "PowerUp", "chargingStation": {"vendorName": "E2E", "model": "Raw"}}
            authorize = {"idToken": {"idToken": tag, "type": "ISO14443"}}
        await exchange(ws, [2, "b1", "BootNotification", boot])
        reply = await exchange(ws, [2, "a1", "Authorize", authorize])
    assert reply[0] == 3, reply
    info = reply[2]["idTagInfo" if version == "1.6" else "idTokenInfo"]
    return str(info["status"])


async def charge(station: Station, tag: str) -> bool:
    """Plug in with `tag`: True when a transaction started."""
    session = station.plug_in(1, ev=EVSpec(capacity_kwh=60, max_power_w=11_000), id_tag=tag)
    finished = asyncio.ensure_future(session.finished.wait())
    started = asyncio.ensure_future(session.transaction_started.wait())
    done, _ = await asyncio.wait({finished, started}, timeout=20, return_when="FIRST_COMPLETED")
    if started in done:
        finished.cancel()
        return True
    started.cancel()
    return False


async def stop_charging(station: Station) -> None:
    for connector in station.connectors.values():
        if connector.session is not None:
            connector.session.request_stop(StopReason.LOCAL)
            await asyncio.wait_for(connector.session.finished.wait(), 20)


def station_json(stack: Stack, station_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(stack.cli("stations", "show", station_id, "--json").stdout)
    return data


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_an_unknown_station_is_registered_accepted_and_visible(
    stack: Stack, version: str
) -> None:
    station_id = unique(f"NEW{version.replace('.', '')}")
    station = create_station(version, StationConfig(station_id=station_id), stack.ocpp_url)
    await station.start()
    try:
        await station.wait_registered(20)
        await asyncio.sleep(1)
        shown = station_json(stack, station_id)
    finally:
        await station.stop()
    assert shown["registration_status"] == "REGISTRATION_STATUS_ACCEPTED"
    assert shown["vendor"] == "ChargeGrid"
    assert shown["online"] is True
    listed = json.loads(stack.cli("stations", "list", "--json").stdout)
    assert station_id in {s["id"] for s in listed}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_valid_tokens_charge_and_blocked_expired_unknown_are_refused(
    stack: Stack, version: str
) -> None:
    good, blocked, expired = unique("GOOD"), unique("BLK"), unique("EXP")
    stack.cli("tokens", "add", good)
    stack.cli("tokens", "add", blocked)
    stack.cli("tokens", "block", blocked)
    stack.cli("tokens", "add", expired, "--expires", "2020-01-01T00:00:00Z")
    raw_id = unique("RAW")
    assert await raw_authorize(stack, version, raw_id, good) == "Accepted"
    assert await raw_authorize(stack, version, raw_id, blocked) == "Blocked"
    assert await raw_authorize(stack, version, raw_id, expired) == "Expired"
    assert await raw_authorize(stack, version, raw_id, unique("NOPE")) == "Invalid"

    station = create_station(
        version, StationConfig(station_id=unique("CHG"), meter_interval_s=0.5), stack.ocpp_url
    )
    await station.start()
    try:
        await station.wait_registered(20)
        assert not await charge(station, blocked)
        assert await charge(station, good)
        await stop_charging(station)
    finally:
        await station.stop()


async def test_a_token_in_use_at_one_station_is_concurrent_at_another(stack: Stack) -> None:
    tag = unique("CONC")
    stack.cli("tokens", "add", tag)
    first = create_station("2.0.1", StationConfig(station_id=unique("TXA")), stack.ocpp_url)
    await first.start()
    try:
        await first.wait_registered(20)
        assert await charge(first, tag)
        other = unique("TXB")

        async def concurrent() -> bool:
            return await raw_authorize(stack, "1.6", other, tag) == "ConcurrentTx"

        await eventually(concurrent, 20)
        await stop_charging(first)

        async def free_again() -> bool:
            return await raw_authorize(stack, "1.6", other, tag) == "Accepted"

        await eventually(free_again, 20)
    finally:
        await first.stop()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_changed_token_reaches_the_station_local_list(stack: Stack, version: str) -> None:
    station_id, tag = unique(f"LL{version.replace('.', '')}"), unique("LIST")
    stack.cli("tokens", "add", tag)
    station = create_station(version, StationConfig(station_id=station_id), stack.ocpp_url)
    await station.start()
    authz = channel(stack, "authorization")
    try:
        await station.wait_registered(20)
        stub = authz_grpc.AuthorizationStub(authz)
        await stub.AddToLocalList(
            authz_pb.LocalListChange(
                scope=authz_pb.LocalListScope(station_id=station_id),
                tokens=[authz_pb.TokenRef(id_token=tag, type=authz_pb.TOKEN_TYPE_ISO14443)],
            )
        )
        now = datetime.now(UTC)

        async def listed(status: str) -> bool:
            return station.local_list.status_of(tag, now) == status

        await eventually(lambda: listed("Accepted"), 20)
        version_before = station.local_list.version
        stack.cli("tokens", "block", tag)
        await eventually(lambda: listed("Blocked"), 20)
        assert station.local_list.version > version_before
        syncs = await stub.ListLocalListSyncs(
            authz_pb.ListLocalListSyncsRequest(scope=authz_pb.LocalListScope(station_id=station_id))
        )
        assert any(s.status == "Accepted" for s in syncs.syncs)
    finally:
        await authz.close()
        await station.stop()


@pytest.mark.parametrize(
    ("version", "key"), [("1.6", "HeartbeatInterval"), ("2.0.1", "OCPPCommCtrlr/HeartbeatInterval")]
)
async def test_desired_configuration_is_applied_on_boot_and_recorded(
    stack: Stack, version: str, key: str
) -> None:
    station_id = unique(f"CFG{version.replace('.', '')}")
    stations = channel(stack, "stations")
    gateway = channel(stack, "gateway")
    station = create_station(version, StationConfig(station_id=station_id), stack.ocpp_url)
    try:
        stub = stations_grpc.StationsStub(stations)
        await stub.CreateStation(
            stations_pb.CreateStationRequest(
                station=stations_pb.Station(
                    id=station_id, registration_status=stations_pb.REGISTRATION_STATUS_ACCEPTED
                )
            )
        )
        await stub.SetDesiredConfiguration(
            stations_pb.SetDesiredConfigurationRequest(
                scope=stations_pb.ConfigurationScope(station_id=station_id),
                entries=[stations_pb.ConfigurationEntry(key=key, value="77")],
            )
        )
        await station.start()
        await station.wait_registered(20)

        async def recorded() -> bool:
            state = await stub.GetConfigurationState(
                stations_pb.GetConfigurationStateRequest(station_id=station_id)
            )
            return any(k.key == key and k.status in ("Accepted", "in_sync") for k in state.keys)

        await eventually(recorded, 30)
        reply = await control_grpc.StationControlStub(gateway).GetConfiguration(
            control_pb.GetConfigurationRequest(station_id=station_id, keys=[key])
        )
        assert {v.key: v.value for v in reply.values}[key] == "77"
    finally:
        await station.stop()
        await stations.close()
        await gateway.close()


async def test_wrong_basic_credentials_are_refused_at_the_handshake(stack: Stack) -> None:
    station_id, password = unique("AUTH"), "correct-horse-battery-staple"
    stack.cli("stations", "add", station_id, "--password", password)

    def basic(secret: str) -> dict[str, str]:
        encoded = base64.b64encode(f"{station_id}:{secret}".encode()).decode()
        return {"Authorization": f"Basic {encoded}"}

    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            f"{stack.ocpp_url}/{station_id}",
            subprotocols=["ocpp1.6"],
            additional_headers=basic("wrong-password-000000"),
        ):
            pass
    assert refused.value.response.status_code == 401
    config = StationConfig(station_id=station_id, password=password)
    station = create_station("1.6", config, stack.ocpp_url)
    await station.start()
    try:
        await station.wait_registered(20)
    finally:
        await station.stop()


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_station_with_a_password_is_refused_without_credentials(
    stack: Stack, version: str
) -> None:
    """`make run` lets unknown stations in without credentials, never one with a password."""
    station_id = unique("PW")
    stack.cli("stations", "add", station_id, "--password", "correct-horse-battery-staple")
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            f"{stack.ocpp_url}/{station_id}", subprotocols=[SUBPROTOCOL[version]]
        ):
            pass
    assert refused.value.response.status_code == 401
    anonymous = unique("ANON")
    async with websockets.connect(
        f"{stack.ocpp_url}/{anonymous}", subprotocols=[SUBPROTOCOL[version]]
    ) as ws:
        assert ws.subprotocol == SUBPROTOCOL[version]


async def test_a_profile_2_station_is_refused_on_plain_ws(stack: Stack) -> None:
    station_id, password = unique("P2"), "correct-horse-battery-staple"
    stack.cli("stations", "add", station_id, "--password", password, "--security-profile", "2")
    encoded = base64.b64encode(f"{station_id}:{password}".encode()).decode()
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(
            f"{stack.ocpp_url}/{station_id}",
            subprotocols=["ocpp1.6"],
            additional_headers={"Authorization": f"Basic {encoded}"},
        ):
            pass
    assert refused.value.response.status_code == 401
    shown = json.loads(stack.cli("stations", "show", station_id, "--json").stdout)
    assert shown["required_security_profile"] == 2


async def test_an_operator_puts_a_connected_station_back_to_pending(stack: Stack) -> None:
    """set-status pending: the CSMS asks the 1.6 station to boot again, answers Pending, and
    refuses its other messages with SecurityError until the operator accepts it again."""
    station_id = unique("HOLD")
    stack.cli("stations", "add", station_id)
    boot = [2, "b1", "BootNotification", {"chargePointVendor": "E2E", "chargePointModel": "Raw"}]
    async with websockets.connect(f"{stack.ocpp_url}/{station_id}", subprotocols=["ocpp1.6"]) as ws:
        assert (await exchange(ws, boot))[2]["status"] == "Accepted"

        async def online() -> bool:
            shown = json.loads(stack.cli("stations", "show", station_id, "--json").stdout)
            return bool(shown.get("online"))

        await eventually(online)
        await asyncio.to_thread(stack.cli, "stations", "set-status", station_id, "pending")
        trigger = await next_csms_call(ws, "TriggerMessage")
        assert trigger[3] == {"requestedMessage": "BootNotification"}
        await ws.send(json.dumps([3, trigger[1], {"status": "Accepted"}]))

        assert (await exchange(ws, [*boot[:1], "b2", *boot[2:]]))[2]["status"] == "Pending"
        refused = await exchange(ws, [2, "h1", "Heartbeat", {}])
        assert refused[:3] == [4, "h1", "SecurityError"]

        await asyncio.to_thread(stack.cli, "stations", "set-status", station_id, "accepted")
        assert (await exchange(ws, [*boot[:1], "b3", *boot[2:]]))[2]["status"] == "Accepted"
        assert (await exchange(ws, [2, "h2", "Heartbeat", {}]))[0] == 3


async def test_a_deleted_station_can_be_added_again_with_the_cli(stack: Stack) -> None:
    station_id = unique("DEL")
    stack.cli("stations", "add", station_id, "--password", "correct-horse-battery-staple")
    stack.cli("stations", "delete", station_id, "--yes")
    again = stack.cli("stations", "add", station_id)
    assert "registered" in again.stdout
    unknown = stack.cli("stations", "delete", unique("GHOST"), "--yes", check=False)
    assert unknown.returncode == 1
    assert "does not exist" in unknown.stdout + unknown.stderr


async def test_pending_policy_waits_for_the_operator(tmp_path: Path) -> None:
    pending = Stack(
        tmp_path,
        env={
            "CHARGEGRID_STATIONS_UNKNOWN_STATION_POLICY": "pending",
            "CHARGEGRID_STATIONS_PENDING_RETRY_INTERVAL_S": "2",
        },
    )
    try:
        await asyncio.to_thread(pending.wait_for_output, "admin API token")
        station_id = unique("PEND")
        station = create_station(
            "2.0.1", StationConfig(station_id=station_id, boot_retry_fallback_s=2), pending.ocpp_url
        )
        await station.start()
        try:
            with pytest.raises(TimeoutError):
                await station.wait_registered(4)
            waiting = json.loads(
                pending.cli("stations", "list", "--status", "pending", "--json").stdout
            )
            assert station_id in {s["id"] for s in waiting}
            pending.cli("stations", "approve", station_id)
            await station.wait_registered(20)
        finally:
            await station.stop()
    finally:
        pending.stop()


async def test_bulk_operations_give_a_result_per_station_and_fail_if_any_fails(
    stack: Stack,
) -> None:
    site = unique("OPS")
    stack.cli("sites", "add", "Ops depot", "--id", site)
    versions = ["1.6", "1.6", "2.0.1"]
    ids = [unique(f"OPS{v.replace('.', '')}") for v in versions]
    for station_id in ids:
        stack.cli("stations", "add", station_id, "--site", site)
    stations = [
        create_station(v, StationConfig(station_id=i), stack.ocpp_url)
        for v, i in zip(versions, ids, strict=True)
    ]
    for station in stations:
        await station.start()
    try:
        for station in stations:
            await station.wait_registered(20)
        await asyncio.sleep(1)  # the registry has seen them connect
        # The CLI runs in a thread: the simulated stations share this event loop and must
        # keep answering while it waits.
        triggered = await asyncio.to_thread(
            stack.cli, "ops", "trigger", "--site", site, "--message", "Heartbeat", "--json"
        )
        results = {r["station_id"]: r["outcome"] for r in json.loads(triggered.stdout)}
        assert results == dict.fromkeys(ids, "accepted")
        read = await asyncio.to_thread(
            stack.cli,
            "ops",
            "get-config",
            "--station",
            ids[0],
            "--key",
            "HeartbeatInterval",
            "--json",
        )
        assert "HeartbeatInterval=" in json.loads(read.stdout)[0]["detail"]
        mixed = await asyncio.to_thread(
            functools.partial(stack.cli, check=False),
            *["ops", "clear-cache", "--station", ids[2], "--station", "NO-SUCH-CP", "--json"],
        )
        assert mixed.returncode == 1
        outcomes = {r["station_id"]: r["outcome"] for r in json.loads(mixed.stdout)}
        assert outcomes == {ids[2]: "accepted", "NO-SUCH-CP": "unknown"}  # not in the registry
        # The 1.6 name an operator knows, to a 1.6 and a 2.0.1 station alike.
        changed = await asyncio.to_thread(
            stack.cli,
            *["ops", "set-config", "--station", ids[0], "--station", ids[2]],
            *["--set", "HeartbeatInterval=120", "--json"],
        )
        details = {r["station_id"]: r["detail"] for r in json.loads(changed.stdout)}
        assert details == {
            ids[0]: "HeartbeatInterval: Accepted",
            ids[2]: "OCPPCommCtrlr/HeartbeatInterval: Accepted",
        }
        read_2x = await asyncio.to_thread(
            stack.cli, "ops", "get-config", "--station", ids[2], "--json"
        )
        assert "OCPPCommCtrlr/HeartbeatInterval=120" in json.loads(read_2x.stdout)[0]["detail"]
    finally:
        for station in stations:
            await station.stop()


async def test_a_password_pushed_to_a_station_that_is_not_online_changes_nothing(
    stack: Stack,
) -> None:
    station_id = unique("PWD")
    stack.cli("stations", "add", station_id)
    pushed = await asyncio.to_thread(
        functools.partial(stack.cli, check=False), "stations", "set-password", station_id, "--push"
    )
    assert pushed.returncode == 1
    assert f"password of {station_id} not changed: the station answered offline" in pushed.stderr
    assert "updated" not in pushed.stdout + pushed.stderr
    shown = json.loads(stack.cli("stations", "show", station_id, "--json").stdout)
    assert not shown.get("has_password", False)
