"""Meter-sample ingest rate and CPU per event of the session service, with baselines.

`through_consumer` is the figure that matters: CPU per MeterValues event through the real
consumer on the embedded broker (see `session_consumer`), batched against one transaction
per event, on SQLite and on PostgreSQL, in two rounds on the same tables. The rest:

Drives `SessionEvents` (the consumer's handler: idempotency claim, session row locked and
updated, samples stored, energy tracked, outbox decided, one transaction per event) with
TransactionUpdated events of 10 samples each, several stations in parallel, and compares
it with inserting the same sample rows through SQLAlchemy core, one transaction per event,
at the same concurrency. PostgreSQL (a temporary database) when reachable, else SQLite; the
result says which. Kafka is not involved: this is the storage side of the consumer.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.session_consumer import measure
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.platform.bus.envelope import set_timestamp
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.migrations import upgrade
from chargegrid.session.app import MIGRATIONS
from chargegrid.session.handlers import SessionEvents
from chargegrid.session.models import SampleRow
from chargegrid.session.outbox import Outbox

STATIONS = 20
EVENTS_PER_STATION = 60
CONSUMER_STATIONS = 50
CONSUMER_EVENTS_PER_STATION = 60
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def _samples(minute: int) -> list[tx.MeterSample]:
    when = T0 + timedelta(minutes=minute)
    readings = [("Energy.Active.Import.Register", "", "Wh", 1000.0 + minute * 120)]
    readings += [("Power.Active.Import", "", "W", 7200.0), ("SoC", "", "Percent", 20.0 + minute)]
    readings += [("Current.Import", p, "A", 10.4) for p in ("L1", "L2", "L3")]
    readings += [("Voltage", p, "V", 230.0) for p in ("L1-N", "L2-N", "L3-N")]
    readings += [("Power.Offered", "", "W", 11000.0)]
    samples = []
    for measurand, phase, unit, value in readings:
        sample = tx.MeterSample(measurand=measurand, phase=phase, unit=unit, value=value)
        set_timestamp(sample.timestamp, when)
        samples.append(sample)
    return samples


def _streams(
    tx_id: str = "1", stations: int | None = None, per_station: int | None = None
) -> list[list[Envelope]]:
    factory = EnvelopeFactory("bench")
    streams = []
    for n in range(stations or STATIONS):
        station = f"CP-{n}"
        begin = tx.TransactionStarted(transaction_id=tx_id, evse_id=1, connector_id=1)
        begin.meter_start_wh = 1000.0
        set_timestamp(begin.started_at, T0)
        stream = [factory.wrap("transaction.started", station, begin)]
        for minute in range(1, (per_station or EVENTS_PER_STATION) + 1):
            update = tx.TransactionUpdated(transaction_id=tx_id, samples=_samples(minute))
            set_timestamp(update.timestamp, T0 + timedelta(minutes=minute))
            stream.append(factory.wrap("transaction.updated", station, update))
        streams.append(stream)
    return streams


async def _postgres_database() -> tuple[str, str] | None:
    """(url of a fresh temporary database, admin url) if PostgreSQL answers."""
    import asyncpg

    base = os.environ.get("CHARGEGRID_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    plain = base.replace("postgresql+asyncpg://", "postgresql://")
    try:
        admin = await asyncpg.connect(plain, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return None
    name = f"cg_bench_{uuid.uuid4().hex[:10]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return plain.rsplit("/", 1)[0] + f"/{name}", plain


async def _drop(admin_url: str, url: str) -> None:
    import asyncpg

    admin = await asyncpg.connect(admin_url, timeout=3)
    await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await admin.close()


async def _service_rate(url: str, streams: list[list[Envelope]], parallel: bool) -> float:
    engine = create_engine(url)
    await upgrade(engine, MIGRATIONS)
    events = SessionEvents(
        session_factory(engine), Outbox(EnvelopeFactory("bench")), lambda: datetime.now(UTC)
    )

    async def station(stream: list[Envelope]) -> None:
        for envelope in stream:
            await events(envelope)

    for stream in streams:  # open the sessions first: the measured part is the samples
        await events(stream[0])
    started = time.perf_counter()
    if parallel:
        await asyncio.gather(*(station(stream[1:]) for stream in streams))
    else:
        for stream in streams:
            await station(stream[1:])
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed


async def _baseline_rate(url: str, streams: list[list[Envelope]], parallel: bool) -> float:
    """Same rows, plain INSERTs, one transaction per event, into the sessions just built."""
    engine = create_engine(url)
    sessions = session_factory(engine)

    def rows(envelope: Envelope) -> list[dict[str, Any]]:
        update = tx.TransactionUpdated()
        envelope.payload.Unpack(update)
        return [
            {
                "session_id": f"{envelope.station_id}:1",
                "timestamp": s.timestamp.ToDatetime(tzinfo=UTC) + timedelta(days=1),
                "measurand": s.measurand,
                "phase": s.phase,
                "unit": s.unit,
                "value": s.value,
                "context": s.context,
                "location": s.location,
            }
            for s in update.samples
        ]

    async def station(stream: list[Envelope]) -> None:
        for envelope in stream:
            async with sessions() as db, db.begin():
                await db.execute(insert(SampleRow), rows(envelope))

    started = time.perf_counter()
    if parallel:
        await asyncio.gather(*(station(stream[1:]) for stream in streams))
    else:
        for stream in streams:
            await station(stream[1:])
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed


def _interleaved(streams: list[list[Envelope]]) -> list[Envelope]:
    """Stations sending at once: one event of each in turn, as a gateway would publish."""
    return [stream[i] for i in range(len(streams[0])) for stream in streams]


async def _through_consumer(tmp: str) -> dict[str, Any]:
    created: list[tuple[str, str]] = []

    async def sqlite(variant: str) -> str:
        return f"sqlite:///{Path(tmp) / f'consumer-{variant}.db'}"

    async def postgresql(_variant: str) -> str:
        made = await _postgres_database()
        assert made is not None
        created.append(made)
        return made[0]

    databases: dict[str, Any] = {"sqlite": sqlite}
    probe = await _postgres_database()
    if probe is not None:
        await _drop(probe[1], probe[0])
        databases["postgresql"] = postgresql
    rounds = [
        _interleaved(_streams(str(n), CONSUMER_STATIONS, CONSUMER_EVENTS_PER_STATION))
        for n in (1, 2)
    ]
    try:
        results = await measure(databases, rounds)
    finally:
        for url, admin in created:
            await _drop(admin, url)
    results["events_per_round"] = len(rounds[0])
    results["samples_per_event"] = len(_samples(0))
    return results


async def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        through_consumer = await _through_consumer(tmp)
    streams = _streams()
    samples = sum(len(stream) - 1 for stream in streams) * len(_samples(0))
    postgres = await _postgres_database()
    with tempfile.TemporaryDirectory() as tmp:
        if postgres is not None:
            url, database, parallel = postgres[0], "postgresql", True
        else:
            url, database, parallel = f"sqlite:///{Path(tmp) / 'bench.db'}", "sqlite", False
        try:
            service_s = await _service_rate(url, streams, parallel)
            baseline_s = await _baseline_rate(url, streams, parallel)
        finally:
            if postgres is not None:
                await _drop(postgres[1], postgres[0])
    return {
        "through_consumer": through_consumer,
        "database": database,
        "stations_in_parallel": STATIONS if parallel else 1,
        "events": samples // len(_samples(0)),
        "samples": samples,
        "service_samples_per_s": round(samples / service_s),
        "service_events_per_s": round(samples / len(_samples(0)) / service_s),
        "baseline_raw_insert_samples_per_s": round(samples / baseline_s),
        "service_vs_baseline": round(baseline_s / service_s, 2),
    }
