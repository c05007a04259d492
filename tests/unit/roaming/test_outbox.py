"""The outbox against a partner that goes down and comes back: held, then delivered in order
per object, each push once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from chargegrid.roaming.context import RoamingContext
from chargegrid.roaming.outbox import OutboxWorker
from tests.unit.roaming.fakes import (
    FakePartner,
    RoutingTransport,
    a_registered_partner,
    build_context,
    close_context,
)


@dataclass
class World:
    ctx: RoamingContext
    transport: RoutingTransport
    partner: FakePartner
    worker: OutboxWorker


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    transport = RoutingTransport()
    ctx = await build_context(database_url, transport)
    partner = FakePartner()
    transport.route("emsp.test", partner.app())
    await a_registered_partner(ctx)
    worker = OutboxWorker(ctx.outbox, ctx.partners, ctx.client, base_backoff_s=0.0)
    yield World(ctx, transport, partner, worker)
    await close_context(ctx)


async def push(w: World, key: str, n: int) -> None:
    path = f"/DE/CGR/{key}"
    await w.ctx.outbox.enqueue("emsp1", "locations", key, "PUT", path, {"id": key, "n": n})


async def test_a_partner_down_gets_everything_in_order_once_when_back(world: World) -> None:
    world.transport.down.add("emsp.test")
    for n in range(3):
        await push(world, "LOC1", n)
        await push(world, "LOC2", n)
    assert await world.worker.sweep() == 0
    assert await world.worker.sweep() == 0
    status = (await world.ctx.outbox.backlog())["emsp1"]
    assert status.backlog == 6
    assert "ConnectError" in (status.last_error or "")
    assert status.last_push_at is None
    world.transport.down.clear()
    delivered = 0
    for _ in range(3):
        delivered += await world.worker.sweep()
    assert delivered == 6
    for key in ("LOC1", "LOC2"):
        got = [body["n"] for _, path, body in world.partner.received if path.endswith(key)]
        assert got == [0, 1, 2]
    assert len(world.partner.received) == 6
    assert await world.worker.sweep() == 0
    after = (await world.ctx.outbox.backlog())["emsp1"]
    assert after.backlog == 0
    assert after.last_push_at is not None


async def test_a_refusing_partner_holds_the_object_not_the_rest(world: World) -> None:
    world.partner.failing = True
    await push(world, "LOC1", 0)
    assert await world.worker.sweep() == 0
    status = (await world.ctx.outbox.backlog())["emsp1"]
    assert status.failing == 1
    assert "HTTP 503" in (status.last_error or "")
    world.partner.failing = False
    await push(world, "LOC1", 1)
    assert await world.worker.sweep() == 2
    assert [b["n"] for _, _, b in world.partner.received] == [0, 1]


async def test_a_failed_push_waits_for_its_backoff(world: World) -> None:
    slow = OutboxWorker(world.ctx.outbox, world.ctx.partners, world.ctx.client, base_backoff_s=60)
    world.transport.down.add("emsp.test")
    await push(world, "LOC1", 0)
    assert await slow.sweep() == 0
    world.transport.down.clear()
    assert await slow.sweep() == 0  # not due before its retry time
    assert world.partner.received == []
    assert slow.backoff(1) == timedelta(seconds=60)
    assert slow.backoff(4) == timedelta(seconds=300)  # doubled, then capped


async def test_bad_pushes_are_refused_before_they_are_stored(world: World) -> None:
    with pytest.raises(ValueError, match="method"):
        await world.ctx.outbox.enqueue("emsp1", "locations", "K", "GET", "/x", None)
    with pytest.raises(ValueError, match="object_key"):
        await world.ctx.outbox.enqueue("emsp1", "locations", "", "PUT", "/x", None)
    assert await world.ctx.outbox.backlog() == {}
