"""A batch consumer in its own process, for the test that kills it with SIGKILL mid-batch.

Each batch is applied in one transaction (event ids claimed, one `applied` row per event);
after the commit it writes the batch's count to its progress file and waits, so the test
can kill it while the database holds a batch whose offsets Kafka has not been told about.
Run: python -m tests.integration.bus.batch_worker BOOTSTRAP TOPIC GROUP DATABASE_URL PROGRESS
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert

from chargegrid.api.station.v1.events_pb2 import StatusChanged
from chargegrid.platform.bus import (
    BatchConsumer,
    ConsumerConfig,
    Delivered,
    EventProducer,
    ProducerConfig,
    claim_events,
    unpack,
)
from chargegrid.platform.bus.idempotency import processed_events
from chargegrid.platform.db import create_engine, session_factory

metadata = MetaData()
applied = Table(
    "applied",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("station_id", String(64), nullable=False),
    Column("number", Integer, nullable=False),
)
processed_events.to_metadata(metadata)
PAUSE_AFTER_COMMIT_S = 0.3


async def main(bootstrap: str, topic: str, group: str, url: str, progress: Path) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    sessions = session_factory(engine)

    async def handler(items: Sequence[Delivered]) -> None:
        async with sessions() as db, db.begin():
            fresh = await claim_events(db, "worker", [e.event_id for e, _ in items])
            rows = [
                {
                    "event_id": e.event_id,
                    "station_id": e.station_id,
                    "number": unpack(e, StatusChanged).connector_id,
                }
                for e, _ in items
                if e.event_id in fresh
            ]
            if rows:
                await db.execute(insert(applied), rows)
        with progress.open("a") as out:
            out.write(f"{len(items)}\n")
        await asyncio.sleep(PAUSE_AFTER_COMMIT_S)  # committed in the database, not in Kafka

    config = ConsumerConfig(
        bootstrap_servers=bootstrap,
        group_id=group,
        topics=[topic],
        max_batch=25,
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
        poll_timeout_ms=100,
    )
    async with EventProducer(ProducerConfig(bootstrap)) as producer:
        consumer = BatchConsumer(config, handler, producer)
        await consumer.start()
        await consumer.run()


if __name__ == "__main__":
    bootstrap, topic, group, url, progress = sys.argv[1:6]
    asyncio.run(main(bootstrap, topic, group, url, Path(progress)))
