"""At its connection limit the gateway refuses new stations with HTTP 503 and keeps the ones
it holds; a held station that reconnects still gets in (it replaces itself)."""

from __future__ import annotations

import json

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from chargegrid.gateway.server import RESERVED_DESCRIPTORS, connection_limit
from tests.integration.gateway.conftest import RunningGateway


async def _heartbeat(ws: websockets.ClientConnection, unique_id: str) -> list[object]:
    await ws.send(json.dumps([2, unique_id, "Heartbeat", {}]))
    reply: list[object] = json.loads(await ws.recv())
    return reply


async def test_a_full_gateway_refuses_new_stations_and_keeps_the_held_ones(
    gateway: RunningGateway,
) -> None:
    gateway.server.max_connections = 2
    first = await websockets.connect(gateway.url("LIMIT-1"), subprotocols=["ocpp1.6"])
    second = await websockets.connect(gateway.url("LIMIT-2"), subprotocols=["ocpp1.6"])
    await gateway.wait_for(lambda: len(gateway.registry) == 2)
    try:
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(gateway.url("LIMIT-3"), subprotocols=["ocpp1.6"])
        response = refused.value.response
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        assert b"maximum of stations" in response.body

        assert (await _heartbeat(first, "hb-1"))[0] == 3
        assert (await _heartbeat(second, "hb-2"))[0] == 3

        again = await websockets.connect(gateway.url("LIMIT-1"), subprotocols=["ocpp1.6"])
        try:
            assert (await _heartbeat(again, "hb-3"))[0] == 3
        finally:
            await again.close()
    finally:
        await first.close()
        await second.close()


async def test_a_freed_slot_takes_a_new_station(gateway: RunningGateway) -> None:
    gateway.server.max_connections = 1
    held = await websockets.connect(gateway.url("SLOT-1"), subprotocols=["ocpp1.6"])
    await gateway.wait_for(lambda: len(gateway.registry) == 1)
    await held.close()
    await gateway.wait_for(lambda: len(gateway.registry) == 0)
    newcomer = await websockets.connect(gateway.url("SLOT-2"), subprotocols=["ocpp1.6"])
    try:
        assert (await _heartbeat(newcomer, "hb"))[0] == 3
    finally:
        await newcomer.close()


def test_the_default_limit_leaves_descriptors_for_everything_else() -> None:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert connection_limit(None) == soft - RESERVED_DESCRIPTORS
    assert connection_limit(500) == 500
