"""Batches of station events folded into few writes, with the same outcome as one by one:
the latest time and status win across batches, and replays after a restart change nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import event

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.stations.boots import BootRegistrar, SecurityLookup
from chargegrid.stations.policy import BootPolicy
from chargegrid.stations.store.presence import BootInfo
from chargegrid.stations.store.stations import connectors_of
from chargegrid.stations.sweeper import OfflineSweeper
from tests.integration.stations.builders import T0, FakeClock
from tests.integration.stations.conftest import Database
from tests.integration.stations.test_registry_events import Events, connected


def status(value: int, connector: int = 1) -> ev.StatusChanged:
    return ev.StatusChanged(evse_id=1, connector_id=connector, status=value)  # type: ignore[arg-type]


async def statuses_of(db: Database, station: str = "CP-1") -> dict[int, int]:
    async with db.sessions() as session:
        rows = (await connectors_of(session, [station]))[station]
    return {row.connector_id: row.status for row in rows}


async def test_statuses_out_of_order_across_batches_keep_the_newest(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    await events.send("connected", connected("gw-a"))
    newer = events.envelope("status_changed", status(3), occurred_at=T0 + timedelta(seconds=20))
    older = events.envelope("status_changed", status(1), occurred_at=T0 + timedelta(seconds=10))
    clock.advance(60)
    await events.handle.apply([newer])
    await events.handle.apply([older])  # a queued notification replayed after a reconnect
    assert await statuses_of(db) == {1: 3}
    newest = events.envelope("status_changed", status(9), occurred_at=T0 + timedelta(seconds=30))
    await events.handle.apply([newest, older])
    assert await statuses_of(db) == {1: 9}


async def test_a_batch_of_statuses_writes_each_connector_once_with_its_latest(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    await events.send("connected", connected("gw-a"))
    batch = []
    for n in range(10):
        clock.advance(1)
        batch.append(events.envelope("status_changed", status(n % 4 + 1, connector=n % 2 + 1)))
    statements: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        statements.append(sql)

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        await events.handle.apply(batch)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)
    assert len([s for s in statements if s.startswith("INSERT INTO connectors")]) == 1
    assert await statuses_of(db) == {1: 1, 2: 2}  # the last of each: n=8 -> 1, n=9 -> 2
    assert (await events.station()).last_seen == clock.now


async def test_a_replayed_batch_after_a_restart_changes_nothing(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    first: list[Envelope] = [events.envelope("connected", connected("gw-a"))]
    for value in (2, 3):
        clock.advance(5)
        first += [
            events.envelope("heartbeat", ev.HeartbeatReceived()),
            events.envelope("status_changed", status(value)),
        ]
    await events.handle.apply(first)
    clock.advance(5)
    later = [
        events.envelope("heartbeat", ev.HeartbeatReceived()),
        events.envelope("status_changed", status(7)),
    ]
    await events.handle.apply(later)
    before = await events.station()

    await events.handle.apply(first)  # committed, but its offsets were not: delivered again
    await events.handle.apply(later)
    after = await events.station()
    assert (after.last_seen, after.online, after.gateway_pod) == (
        before.last_seen,
        True,
        "gw-a",
    )
    assert after.last_seen == T0 + timedelta(seconds=15)
    assert await statuses_of(db) == {1: 7}


async def test_a_replayed_heartbeat_does_not_bring_back_a_station_swept_offline(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    await events.send("connected", connected("gw-a"))
    beat = events.envelope("heartbeat", ev.HeartbeatReceived())
    await events.handle.apply([beat])
    clock.advance(1_000)
    sweeper = OfflineSweeper(
        db.sessions, clock, default_interval_s=300, grace_factor=2.0, every_s=1
    )
    assert await sweeper.sweep_once() == ["CP-1"]
    await events.handle.apply([beat])
    assert not (await events.station()).online
    await events.send("heartbeat", ev.HeartbeatReceived())  # real, new life
    assert (await events.station()).online


async def test_order_holds_for_a_station_with_connects_and_heartbeats_in_one_batch(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    batch = [events.envelope("connected", connected("gw-a"))]
    clock.advance(5)
    batch.append(events.envelope("heartbeat", ev.HeartbeatReceived()))
    batch.append(events.envelope("status_changed", status(3)))
    clock.advance(5)
    batch.append(
        events.envelope("disconnected", ev.StationDisconnected(gateway_pod="gw-a", close_code=1))
    )
    batch.append(events.envelope("heartbeat", ev.HeartbeatReceived(), station="CP-2"))
    await events.handle.apply(batch)
    one, two = await events.station("CP-1"), await events.station("CP-2")
    assert (one.online, one.gateway_pod, one.last_seen) == (False, "", T0 + timedelta(seconds=5))
    assert await statuses_of(db) == {1: 3}
    # A heartbeat of an unknown station registers it as the policy says, offline (no pod).
    assert (two.registration_status, two.online, two.last_seen) == ("Pending", False, clock.now)


async def test_a_disconnect_before_the_first_connect_of_a_batch_registers_nothing_early(
    db: Database, clock: FakeClock
) -> None:
    events = Events(db, clock)
    gone = events.envelope("disconnected", ev.StationDisconnected(gateway_pod="gw-a"))
    await events.handle.apply([gone, events.envelope("connected", connected("gw-a"))])
    station = await events.station()
    assert (station.online, station.gateway_pod) == (True, "gw-a")


def a_boot(vendor: str, clock: FakeClock) -> BootInfo:
    return BootInfo(vendor, "Volt", "SN", "1.0", "PowerUp", 2, clock.now, security_profile=1)


async def test_concurrent_boots_are_stored_and_decided_in_a_few_transactions(
    db: Database, clock: FakeClock
) -> None:
    registrar = BootRegistrar(db.sessions, BootPolicy("accept", 300, 60))
    commits: list[object] = []

    def count(connection: object) -> None:
        commits.append(connection)

    event.listen(db.engine.sync_engine, "commit", count)
    try:
        decisions = await asyncio.gather(
            *(registrar(f"CP-{n}", a_boot(f"V{n}", clock)) for n in range(100)),
            registrar("CP-1", a_boot("again", clock)),
        )
    finally:
        event.remove(db.engine.sync_engine, "commit", count)
    assert set(decisions) == {("Accepted", 300)}
    assert len(commits) <= 3
    events = Events(db, clock)
    assert (await events.station("CP-7")).vendor == "V7"
    assert (await events.station("CP-1")).vendor == "again"  # applied in call order
    lookup = SecurityLookup(db.sessions)
    facts = await asyncio.gather(lookup("CP-3"), lookup("NOPE"))
    assert facts[1] is None
    assert facts[0] is not None
    assert (facts[0].required_profile, facts[0].registration_status) == (0, "Accepted")


async def test_partition_batches_and_boot_commits_at_once_all_land(
    db: Database, clock: FakeClock
) -> None:
    """Concurrent writers (one per partition batch, the boot registrar's group commits):
    on SQLite they queue for the one write lock in the event loop, none fails as locked."""
    events = Events(db, clock)
    registrar = BootRegistrar(db.sessions, BootPolicy("accept", 300, 60))
    batches = [
        [events.envelope("connected", connected("gw-a"), station=f"P{p}-{n}") for n in range(20)]
        + [events.envelope("heartbeat", ev.HeartbeatReceived(), station=f"H{p}") for _ in range(5)]
        for p in range(8)
    ]
    await asyncio.gather(
        *(events.handle.apply(batch) for batch in batches),
        *(registrar(f"P{n % 8}-{n}", a_boot("Acme", clock)) for n in range(40)),
    )
    for p in range(8):
        assert (await events.station(f"P{p}-19")).online
        assert (await events.station(f"H{p}")).last_seen == clock.now
    assert (await events.station("P3-11")).vendor == "Acme"
