"""Analytics ingest CPU per MeterValues event: the real energy handler fed real events.

What the whole-stack benchmark loads analytics with, without the stack: 50 stations, each
in a transaction, sending TransactionUpdated events (one register reading among the power,
current and voltage samples a charger reports), handed to the analytics router in the
partition batches the consumer would hand it (200 events across the stations). Prints CPU
ms per event (process time, so the SQLite thread counts; PostgreSQL's server CPU does
not), on SQLite and (when reachable) PostgreSQL, after the tables already hold earlier
sessions so a cost that grows with the data shows.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord

from bench.bench_analytics import _drop, _postgres_url
from chargegrid.analytics.app import MIGRATIONS
from chargegrid.analytics.consumers import TopicRouter
from chargegrid.analytics.energy import EnergyIngest
from chargegrid.analytics.sites import FixedSites, SiteInfo
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.platform.bus.topics import TRANSACTION_EVENTS
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.migrations import upgrade

STATIONS = 50
EVENTS_PER_STATION = 100
BATCH = 200
START = datetime(2026, 3, 2, 8, tzinfo=UTC)
REGISTER = "Energy.Active.Import.Register"


def _sample(measurand: str, value: float, unit: str, at: datetime) -> tx.MeterSample:
    sample = tx.MeterSample(measurand=measurand, value=value, unit=unit)
    sample.timestamp.FromDatetime(at)
    return sample


def meter_values(round_: int) -> list[Envelope]:
    """One session's worth of TransactionUpdated events per station, interleaved by time."""
    ids = iter(range(10**9))
    factory = EnvelopeFactory("bench", ids=lambda: f"ev-{round_}-{next(ids)}")
    events = []
    began = START + timedelta(days=round_)
    for n in range(EVENTS_PER_STATION):
        at = began + timedelta(seconds=30 * n)
        for s in range(STATIONS):
            samples = [
                _sample(REGISTER, 1_000_000 + 90.0 * n + s, "Wh", at),
                _sample("Power.Active.Import", 11_000.0, "W", at),
                _sample("Current.Import", 16.0, "A", at),
                _sample("Voltage", 230.0, "V", at),
            ]
            update = tx.TransactionUpdated(
                transaction_id=f"T-{round_}-{s}", evse_id=1, seq_no=n, samples=samples
            )
            events.append(factory.wrap("transaction.updated", f"CP-{s}", update, occurred_at=at))
    return events


def _delivered(envelopes: list[Envelope]) -> list[tuple[Envelope, ConsumerRecord]]:
    return [
        (e, ConsumerRecord(TRANSACTION_EVENTS, 0, i, 0, 0, None, b"", None, 0, 0, []))
        for i, e in enumerate(envelopes)
    ]


async def measure(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    await upgrade(engine, MIGRATIONS)
    sessions = session_factory(engine)
    sites = FixedSites({f"CP-{s}": SiteInfo(f"site-{s % 8}", "Europe/Berlin") for s in range(50)})
    router = TopicRouter({TRANSACTION_EVENTS: EnergyIngest(sessions, sites, lambda: START)})
    try:
        await _feed(router, meter_values(0))  # earlier sessions: the tables are not empty
        events = meter_values(1)
        cpu, wall = time.process_time(), time.perf_counter()
        await _feed(router, events)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await engine.dispose()
    return {
        "events": len(events),
        "cpu_ms_per_event": round(cpu * 1000 / len(events), 3),
        "events_per_s": round(len(events) / wall),
    }


async def _feed(router: TopicRouter, events: list[Envelope]) -> None:
    for i in range(0, len(events), BATCH):
        await router(_delivered(events[i : i + BATCH]))


async def run() -> dict[str, Any]:
    result: dict[str, Any] = {"batch": BATCH, "stations": STATIONS}
    with tempfile.TemporaryDirectory() as var:
        result["sqlite"] = await measure(f"sqlite:///{Path(var) / 'cpu.db'}")
    postgres = await _postgres_url()
    if postgres is not None:
        try:
            result["postgresql"] = await measure(postgres)
        finally:
            await _drop(postgres)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(asyncio.run(run()), indent=2))
