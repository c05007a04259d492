"""Wait until a gRPC server reports SERVING on the standard health service."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


async def check(address: str, service: str = "", timeout_s: float = 1.0) -> str:
    """The health status name at `address` (e.g. "SERVING"), or "UNREACHABLE"."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)
        try:
            reply = await stub.Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout_s
            )
        except grpc.aio.AioRpcError:
            return "UNREACHABLE"
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


async def wait_serving(address: str, timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check(address) == "SERVING":
            return True
        await asyncio.sleep(0.25)
    return False
