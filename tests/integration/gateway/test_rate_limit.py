"""Beyond its per-station rate a station is slowed, not dropped: every CALL is answered, in
order, and the connection stays open."""

from __future__ import annotations

import asyncio
import json
import time

import websockets

from tests.integration.gateway.conftest import RunningGateway


async def test_a_station_over_its_rate_is_slowed_and_every_call_answered(
    gateway: RunningGateway,
) -> None:
    rate = gateway.server.limits.max_messages_per_s
    calls = int(rate * 4)  # the burst (2x rate) and then two seconds' worth more
    async with websockets.connect(gateway.url("RATE-1"), subprotocols=["ocpp1.6"]) as ws:
        started = time.monotonic()
        for n in range(calls):
            await ws.send(json.dumps([2, f"hb-{n}", "Heartbeat", {}]))
        replies = [json.loads(await asyncio.wait_for(ws.recv(), 30)) for _ in range(calls)]
        elapsed = time.monotonic() - started
        assert [r[1] for r in replies] == [f"hb-{n}" for n in range(calls)]
        assert all(r[0] == 3 for r in replies)
        # The bucket lets 2x rate through at once, then `rate` per second.
        assert elapsed >= (calls - 2 * rate) / rate * 0.8
        await ws.send(json.dumps([2, "after", "Heartbeat", {}]))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))[1] == "after"
