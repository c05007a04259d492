"""Waiting for the parts of an asynchronous 2.x report (NotifyDisplayMessages,
NotifyMonitoringReport) the stations service keeps, after the command that asked for it.

The CLI picks the request id itself, so it knows which parts are its own.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

import grpc

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.api.stations.v1.stations_pb2_grpc import StationsStub


def new_request_id() -> int:
    return secrets.randbelow(2**31 - 2) + 1


async def wait_for_report(
    channel: grpc.aio.Channel, station_id: str, action: str, request_id: int, wait_s: float
) -> list[dict[str, Any]]:
    """The report's parts (payloads) once its last part (tbc false) is kept, or what arrived
    by the deadline."""
    stub = StationsStub(channel)
    request = pb.ListStationReportsRequest(
        station_id=station_id, action=action, request_id=request_id
    )
    deadline = time.monotonic() + wait_s
    while True:
        reply = await stub.ListStationReports(request)
        parts = list(reply.parts)
        if (parts and not parts[-1].tbc) or time.monotonic() >= deadline:
            return [json.loads(part.payload_json) for part in parts]
        await asyncio.sleep(0.5)
