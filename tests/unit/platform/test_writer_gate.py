"""The SQLite writer gate: boots the gateway waits on go ahead of the consumer's batches."""

from __future__ import annotations

import asyncio

from chargegrid.platform.writer_gate import WriterGate


async def _hold(gate: WriterGate, name: str, urgent: bool, order: list[str]) -> None:
    async with gate.hold(urgent=urgent):
        order.append(name)
        await asyncio.sleep(0)


async def test_urgent_writers_go_before_waiting_background_ones_each_in_arrival_order() -> None:
    gate, order = WriterGate(), list[str]()
    first = gate.hold(urgent=False)
    await first.__aenter__()
    waiting = [
        asyncio.create_task(_hold(gate, name, urgent, order))
        for name, urgent in [("b1", False), ("u1", True), ("b2", False), ("u2", True)]
    ]
    await asyncio.sleep(0)
    assert order == []
    assert gate.locked
    await first.__aexit__(None, None, None)
    await asyncio.gather(*waiting)
    assert order == ["u1", "u2", "b1", "b2"]
    assert not gate.locked


async def test_a_background_writer_does_not_jump_ahead_of_a_waiting_urgent_one() -> None:
    gate, order = WriterGate(), list[str]()
    async with gate.hold(urgent=True):
        urgent = asyncio.create_task(_hold(gate, "urgent", True, order))
        await asyncio.sleep(0)
    background = asyncio.create_task(_hold(gate, "background", False, order))
    await asyncio.gather(urgent, background)
    assert order == ["urgent", "background"]


async def test_a_cancelled_waiter_passes_the_lock_on_and_never_holds_it() -> None:
    gate, order = WriterGate(), list[str]()
    async with gate.hold(urgent=False):
        gone = asyncio.create_task(_hold(gate, "gone", True, order))
        kept = asyncio.create_task(_hold(gate, "kept", False, order))
        await asyncio.sleep(0)
        gone.cancel()
        await asyncio.sleep(0)
    await kept
    assert gone.cancelled()
    assert order == ["kept"]
    assert not gate.locked


async def test_a_waiter_cancelled_just_as_it_was_handed_the_lock_releases_it() -> None:
    gate, order = WriterGate(), list[str]()
    holder = gate.hold(urgent=False)
    await holder.__aenter__()
    handed = asyncio.create_task(_hold(gate, "handed", True, order))
    after = asyncio.create_task(_hold(gate, "after", False, order))
    await asyncio.sleep(0)
    await holder.__aexit__(None, None, None)  # hands the lock to `handed` ...
    handed.cancel()  # ... which is cancelled before it runs
    await asyncio.gather(handed, after, return_exceptions=True)
    assert order == ["after"]
    assert not gate.locked
