"""From a MeterValues answered to the session's new energy readable over the session gRPC API.

One probe station of its own (OCPP 1.6, beside the load) sends a MeterValues every
`every_s` with its energy register `STEP_WH` higher each time; after each answer the clock
runs until `GetSession` shows more energy than before that reading (the first: until the
session exists). That is the path the
operator sees: gateway -> Kafka -> session consumer -> database -> gRPC. `stop_probe` does
the same for a StopTransaction answered -> the session closed (full-session loads).
"""

from __future__ import annotations

import asyncio
import math
import time
from datetime import UTC, datetime
from typing import Any

import grpc
import orjson
from websockets.asyncio.client import ClientConnection, connect

from chargegrid.api.session.v1 import session_pb2, session_pb2_grpc
from chargegrid.platform.grpc import create_channel

STEP_WH = 10.0
FIRST_WH = 1000.0
#: Between two GetSession calls of a probe. Every call costs the session service CPU that
#: the figures count per MeterValues: at 5 ms the probe's 200 calls/s were a visible share
#: of the session's figure, so the resolution is 20 ms.
POLL_S = 0.02
TIMEOUT_S = 30.0
TRANSACTION_ID = 7001
PROBE_ID_TAG = "BENCH"


def _meter_values(register_wh: float, at: str) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "transactionId": TRANSACTION_ID,
        "meterValue": [
            {
                "timestamp": at,
                "sampledValue": [
                    {"value": f"{register_wh:.1f}", "measurand": "Energy.Active.Import.Register"}
                ],
            }
        ],
    }


async def _call(ws: ClientConnection, uid: str, action: str, payload: dict[str, Any]) -> None:
    await ws.send(orjson.dumps([2, uid, action, payload]).decode())
    while (reply := orjson.loads(await ws.recv()))[0] == 2:
        await ws.send(orjson.dumps([4, reply[1], "NotSupported", "probe", {}]).decode())
    if reply[0] != 3:
        raise RuntimeError(f"probe call {action} answered {reply}")


async def _until_energy_above(sessions: Any, session_id: str, above: float | None) -> float | None:
    """The session's energy once it exceeds `above` (None: once the session exists)."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            found = await sessions.GetSession(session_pb2.GetSessionRequest(session_id=session_id))
            if above is None or found.energy_wh > above:
                return float(found.energy_wh)
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
        await asyncio.sleep(POLL_S)
    return None


async def probe(
    url: str, session_address: str, token: str, station_id: str, seconds: float, every_s: float
) -> dict[str, Any]:
    """Seconds from each answered MeterValues to its energy visible (first one: the session)."""
    delays: list[float] = []
    timeouts = 0
    channel = create_channel(session_address, token=token)
    sessions = session_pb2_grpc.SessionsStub(channel)
    ws = await connect(f"{url}/{station_id}", subprotocols=["ocpp1.6"], compression=None)
    try:
        await _call(
            ws, "boot", "BootNotification", {"chargePointVendor": "B", "chargePointModel": "P"}
        )
        deadline = time.monotonic() + seconds
        n, seen = 0, None
        while time.monotonic() < deadline:
            at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            await _call(ws, f"mv-{n}", "MeterValues", _meter_values(FIRST_WH + n * STEP_WH, at))
            answered = time.perf_counter()
            now_seen = await _until_energy_above(sessions, f"{station_id}:{TRANSACTION_ID}", seen)
            if now_seen is None:
                timeouts += 1
            else:
                delays.append(time.perf_counter() - answered)
                seen = now_seen
            n += 1
            await asyncio.sleep(every_s)
    finally:
        await ws.close()
        await channel.close()
    return _summary(delays, timeouts)


def _summary(delays: list[float], timeouts: int) -> dict[str, Any]:
    ordered = sorted(delays)
    if not ordered:
        return {"samples": 0, "timeouts": timeouts}
    return {
        "samples": len(ordered),
        "timeouts": timeouts,
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 1),
        # Nearest rank: with few samples p99 is the largest (never below the median).
        "p99_ms": round(ordered[max(0, math.ceil(len(ordered) * 0.99) - 1)] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


async def stop_probe(
    url: str, session_address: str, token: str, station_id: str, seconds: float, every_s: float
) -> dict[str, Any]:
    """Seconds from each StopTransaction answered to the session closed over gRPC.

    One probe station (OCPP 1.6) runs short sessions beside the load: StartTransaction, one
    MeterValues, StopTransaction, then polls `GetSession` until the session is no longer
    active; `every_s` between sessions."""
    delays: list[float] = []
    timeouts = 0
    channel = create_channel(session_address, token=token)
    sessions = session_pb2_grpc.SessionsStub(channel)
    ws = await connect(f"{url}/{station_id}", subprotocols=["ocpp1.6"], compression=None)
    try:
        await _call(
            ws, "boot", "BootNotification", {"chargePointVendor": "B", "chargePointModel": "P"}
        )
        deadline = time.monotonic() + seconds
        n, register = 0, FIRST_WH
        while time.monotonic() < deadline:
            started = await _answer(ws, f"start-{n}", "StartTransaction", _start(register))
            transaction_id = int(started["transactionId"])
            register += STEP_WH
            meter = _meter_values(register, _stamp())
            meter["transactionId"] = transaction_id
            await _call(ws, f"mv-{n}", "MeterValues", meter)
            stop = {"transactionId": transaction_id, "meterStop": int(register)}
            await _call(ws, f"stop-{n}", "StopTransaction", {**stop, "timestamp": _stamp()})
            answered = time.perf_counter()
            if await _until_closed(sessions, f"{station_id}:{transaction_id}"):
                delays.append(time.perf_counter() - answered)
            else:
                timeouts += 1
            n += 1
            await asyncio.sleep(every_s)
    finally:
        await ws.close()
        await channel.close()
    return _summary(delays, timeouts)


def _stamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _start(register_wh: float) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "idTag": PROBE_ID_TAG,
        "meterStart": int(register_wh),
        "timestamp": _stamp(),
    }


async def _answer(
    ws: ClientConnection, uid: str, action: str, payload: dict[str, Any]
) -> dict[str, Any]:
    await ws.send(orjson.dumps([2, uid, action, payload]).decode())
    while (reply := orjson.loads(await ws.recv()))[0] == 2:
        await ws.send(orjson.dumps([4, reply[1], "NotSupported", "probe", {}]).decode())
    if reply[0] != 3:
        raise RuntimeError(f"probe call {action} answered {reply}")
    return dict(reply[2])


async def _until_closed(sessions: Any, session_id: str) -> bool:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            found = await sessions.GetSession(session_pb2.GetSessionRequest(session_id=session_id))
            if found.status != session_pb2.SESSION_STATUS_ACTIVE:
                return True
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
        await asyncio.sleep(POLL_S)
    return False
