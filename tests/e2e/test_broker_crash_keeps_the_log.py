"""A broker SIGKILL under `make run` (durable by default) loses nothing it acknowledged.

Three rounds: 1.6 and 2.0.1 stations charge, and just after their sessions end the broker is
killed (the dev supervisor restarts it). The next round's stations charge at once, while it
comes back, and must be answered every time (the gateway retries within its budget). At the
end every completed transaction is exactly one session and one CDR with the station's energy,
the frames stored before each kill are still in ocpp.frames.v1, and the session service's
committed offsets never went back (the issue saw all three lost with memory storage).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from chargegrid.api.session.v1 import session_pb2 as session_pb
from chargegrid.platform.bus import decode
from chargegrid.platform.bus.topics import OCPP_FRAMES, TRANSACTION_EVENTS
from chargegrid.platform.embedded_broker import wait_for_metadata
from tests.e2e.conftest import Stack
from tests.e2e.reconcile import Done, reconcile
from tests.e2e.test_lost_transactions_through_the_stack import (
    RawStation,
    Services,
    eventually,
    unique,
)

ROUNDS = 3
PARTITIONS = 8


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("crash"), env={"CHARGEGRID_BROKER_STORAGE": "durable"})
    try:
        await asyncio.to_thread(running.wait_for_output, "admin API token", 180)
        await asyncio.to_thread(running.wait_for_output, "simulator id tokens", 120)
        yield running
    finally:
        running.stop()


async def charge(station: RawStation, tag: str, round_no: int) -> tuple[str, float]:
    """One whole transaction; (transaction id, energy in Wh) as the station measured it."""
    start, energy = 10_000 * (round_no + 1), 1_000.0 + 250 * round_no
    if station.version == "1.6":
        transaction_id, status = await station.start16(tag, start)
        assert status == "Accepted"
        await station.stop16(transaction_id, tag, int(start + energy))
        return transaction_id, energy
    transaction_id = unique("TX")
    await station.event201("Started", transaction_id, tag, float(start))
    await station.event201("Ended", transaction_id, tag, start + energy)
    return transaction_id, energy


async def committed_offsets(bootstrap: str, group: str) -> int:
    """The sum of `group`'s committed offsets on transaction.events.v1."""
    await wait_for_metadata(bootstrap, 60)  # the broker may be coming back from a kill
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        partitions = [TopicPartition(TRANSACTION_EVENTS, p) for p in range(PARTITIONS)]
        return sum([await consumer.committed(tp) or 0 for tp in partitions])
    finally:
        await consumer.stop()


async def stored_frames(bootstrap: str) -> set[tuple[str, str]]:
    """(station id, unique id) of every exchange in ocpp.frames.v1, from its beginning."""
    await wait_for_metadata(bootstrap, 60)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(OCPP_FRAMES, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        found: set[tuple[str, str]] = set()
        while batch := await consumer.getmany(timeout_ms=3000, max_records=5000):
            for records in batch.values():
                for record in records:
                    envelope = decode(record.value)
                    found.add((envelope.station_id, envelope.correlation_id))
        return found
    finally:
        await consumer.stop()


async def test_broker_kills_just_after_sessions_end_lose_and_double_nothing(stack: Stack) -> None:
    services = Services(stack)
    done: list[tuple[str, str, float]] = []  # station, transaction, energy
    answered: set[tuple[str, str]] = set()  # (station, unique id) of every answered CALL
    offsets_before_kill: list[int] = []
    try:
        for round_no in range(ROUNDS):
            for n, version in enumerate(("1.6", "2.0.1")):
                station = RawStation(stack, version, unique(f"CRASH{round_no}"))
                await station.connect()
                tag = f"SIMTAG{round_no * 2 + n + 1:04d}"
                transaction_id, energy = await charge(station, tag, round_no)
                done.append((station.id, transaction_id, energy))
                answered |= {(station.id, f"m{i}") for i in range(1, station._n + 1)}
                await station.close()
            # The session service has applied this round before the kill? Not necessarily:
            # what it has not consumed yet must still be there for it afterwards.
            offsets_before_kill.append(await committed_offsets(stack.bootstrap, "session"))
            os.kill(stack.broker_pid(), signal.SIGKILL)

        result = await reconcile(services, [Done(*tx) for tx in done], settle_timeout_s=240)
        assert result.ok, result.describe()

        frames = await stored_frames(stack.bootstrap)
        assert answered <= frames, f"answered but not in the log: {sorted(answered - frames)}"
        after = await committed_offsets(stack.bootstrap, "session")
        assert offsets_before_kill == sorted(offsets_before_kill)  # never went back
        assert after >= offsets_before_kill[-1] > 0
        assert stack.output().count("broker | exited with code -9") == ROUNDS
    finally:
        await services.close()


async def test_a_killed_session_service_consumes_again(stack: Stack) -> None:
    """SIGKILL of the session service: its replacement joins the group and applies a new
    transaction. The bound is generous (a restart on a loaded machine includes the supervisor's
    backoff and Python's start); the rejoin itself is a bench figure (ADR 018: ~4 s)."""
    services = Services(stack)
    try:
        old = stack.restart_service("session", signal.SIGKILL)
        killed = asyncio.get_running_loop().time()
        station = RawStation(stack, "2.0.1", unique("RECOVER"))
        await station.connect()
        transaction_id, energy = await charge(station, "SIMTAG0010", 0)
        await station.close()

        async def applied() -> bool:
            got = await services.session(station.id, transaction_id)
            return got is not None and got.status == session_pb.SESSION_STATUS_COMPLETED

        await eventually(applied, timeout_s=60)
        took = asyncio.get_running_loop().time() - killed
        print(f"session service killed -> new transaction applied after {took:.1f} s")
        assert stack.service_pid("session") != old
        got = await services.session(station.id, transaction_id)
        assert got is not None
        assert got.energy_wh == energy
    finally:
        await services.close()
