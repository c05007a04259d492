"""Roaming's Kafka entrypoint: station.events.v1 (status changes) in group "roaming".

One partition batch is one transaction (`LocationStore.apply_statuses`), its event ids claimed
there, so a redelivered batch pushes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.platform.bus import (
    BatchConsumer,
    ConsumerConfig,
    Delivered,
    EventProducer,
    occurred_at,
    unpack,
)
from chargegrid.platform.bus.topics import STATION_EVENTS
from chargegrid.roaming.locations.store import LocationStore, StatusReport

STATUS_CHANGED = "station.status_changed"


class StationEvents:
    def __init__(self, store: LocationStore) -> None:
        self.store = store

    async def batch(self, items: Sequence[Delivered]) -> None:
        reports = []
        for envelope, _ in items:
            if envelope.type != STATUS_CHANGED or not envelope.station_id:
                continue
            status = unpack(envelope, ev.StatusChanged)
            reports.append(
                StatusReport(
                    envelope.event_id,
                    envelope.station_id,
                    status.evse_id or status.connector_id,
                    status.status,
                    occurred_at(envelope),
                )
            )
        await self.store.apply_statuses(reports)


def station_consumer(
    bootstrap_servers: str,
    handler: StationEvents,
    producer: EventProducer,
    group: str = "roaming",
    **overrides: object,
) -> BatchConsumer:
    """A consumer of station events; `overrides` set ConsumerConfig fields (tests, tuning)."""
    config = ConsumerConfig(
        bootstrap_servers=bootstrap_servers,
        group_id=group,
        topics=[STATION_EVENTS],
        event_types=frozenset({STATUS_CHANGED}),
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return BatchConsumer(config, handler.batch, producer)
