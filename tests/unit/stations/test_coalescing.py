"""A batch's signs of life folded per station and connector; concurrent calls batched."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from chargegrid.stations.batching import Coalescer
from chargegrid.stations.coalesce import LiveSigns
from chargegrid.stations.store.status import StatusReport

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def a_status(status: int, when: datetime, evse: int = 1, connector: int = 1) -> StatusReport:
    return StatusReport(evse, connector, status, "", "", when)


def test_the_latest_sign_of_life_wins_whatever_the_order() -> None:
    signs = LiveSigns()
    for seconds in (10, 30, 20):
        signs.alive("CP-1", at(seconds))
    signs.alive("CP-2", at(5))
    assert signs.seen == {"CP-1": at(30), "CP-2": at(5)}


def test_the_newest_status_per_connector_wins_and_a_tie_goes_to_the_later_event() -> None:
    signs = LiveSigns()
    signs.status("CP-1", a_status(3, at(20)))
    signs.status("CP-1", a_status(1, at(10)))  # late: older than what is kept
    signs.status("CP-1", a_status(9, at(20)))  # same instant, later in the batch
    signs.status("CP-1", a_status(4, at(5), evse=2, connector=1))
    assert {key: r.status for key, r in signs.statuses.items()} == {
        ("CP-1", 1, 1): 9,
        ("CP-1", 2, 1): 4,
    }


def test_connector_zero_is_the_station_itself_and_holds_no_status() -> None:
    signs = LiveSigns()
    signs.status("CP-1", a_status(8, at(1), evse=0, connector=0))
    assert signs.statuses == {}


async def test_calls_waiting_together_are_served_in_one_run() -> None:
    runs: list[list[int]] = []

    async def double(items: Sequence[int]) -> list[int]:
        runs.append(list(items))
        await asyncio.sleep(0.01)
        return [2 * i for i in items]

    calls = Coalescer(double)
    first = await calls(1)  # alone: served at once
    answers = await asyncio.gather(*(calls(i) for i in range(2, 7)))
    assert (first, answers) == (2, [4, 6, 8, 10, 12])
    assert runs == [[1], [2, 3, 4, 5, 6]]


async def test_a_failing_batch_is_served_again_one_call_at_a_time() -> None:
    async def refuse_seven(items: Sequence[int]) -> list[int]:
        if 7 in items:
            raise ValueError("seven")
        return list(items)

    calls = Coalescer(refuse_seven)
    outcomes = await asyncio.gather(*(calls(i) for i in (5, 6, 7, 8)), return_exceptions=True)
    assert outcomes[:2] == [5, 6]
    assert outcomes[3] == 8
    assert isinstance(outcomes[2], ValueError)


async def test_a_caller_that_gave_up_is_left_out() -> None:
    seen: list[list[str]] = []
    gate = asyncio.Event()

    async def record(items: Sequence[str]) -> list[str]:
        seen.append(list(items))
        await gate.wait()
        return list(items)

    calls = Coalescer(record)
    first = asyncio.create_task(calls("a"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # "a" is being served; the next two wait for the next batch
    waiting = [asyncio.create_task(calls(x)) for x in ("b", "c")]
    await asyncio.sleep(0)
    waiting[0].cancel()
    gate.set()
    assert await first == "a"
    assert await waiting[1] == "c"
    with pytest.raises(asyncio.CancelledError):
        await waiting[0]
    assert seen == [["a"], ["c"]]
