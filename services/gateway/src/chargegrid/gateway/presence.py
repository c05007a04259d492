"""Which pod holds which station, shared by every gateway pod through a compacted topic.

Each pod writes a record when a station connects (online) and when its socket closes
(offline), keyed by station id, and every pod reads the whole topic into a `PresenceDirectory`
to route commands. A newer connection (higher `connection_seq`, its connect time in µs) wins
over an older one whatever order the records arrive in. Compaction may keep an older pod's
"offline" record after a newer pod's "online" one; the pod that really holds the station
then sees it and announces itself again, so the directory heals itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer

from chargegrid.api.gateway.v1.presence_pb2 import StationPresence
from chargegrid.gateway.routing import StationInfo
from chargegrid.platform.bus import (
    BusUnavailable,
    EnvelopeFactory,
    EventProducer,
    UndecodableEvent,
    decode,
    unpack,
)
from chargegrid.platform.bus.envelope import set_timestamp
from chargegrid.platform.bus.topics import STATION_PRESENCE
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)


def connection_seq(info: StationInfo) -> int:
    return int(info.connected_at.timestamp() * 1_000_000)


class PresenceDirectory:
    """The newest known presence of every station."""

    def __init__(self) -> None:
        self._entries: dict[str, StationPresence] = {}

    def apply(self, presence: StationPresence) -> bool:
        """Keep `presence` if it is newer than what is known; True when it changed anything."""
        known = self._entries.get(presence.station_id)
        if known is not None:
            if presence.connection_seq < known.connection_seq:
                return False
            same_connection = presence.connection_seq == known.connection_seq
            if same_connection and known.online is False and presence.online:
                return False  # the close of a connection outranks its own (re-)announcement
        self._entries[presence.station_id] = presence
        return True

    def owner(self, station_id: str) -> StationPresence | None:
        entry = self._entries.get(station_id)
        return entry if entry is not None and entry.online else None

    def online(self) -> list[StationPresence]:
        return [entry for entry in self._entries.values() if entry.online]


class PresencePublisher:
    def __init__(
        self, producer: EventProducer, factory: EnvelopeFactory, grpc_address: str
    ) -> None:
        self.producer = producer
        self.factory = factory
        self.grpc_address = grpc_address

    def record(self, info: StationInfo, *, online: bool) -> StationPresence:
        presence = StationPresence(
            station_id=info.station_id,
            gateway_pod=info.gateway_pod,
            grpc_address=self.grpc_address,
            ocpp_version=info.version.to_proto(),
            connection_seq=connection_seq(info),
            online=online,
            remote_address=info.remote_address,
            security_profile=info.security_profile,
        )
        set_timestamp(presence.connected_at, info.connected_at)
        return presence

    async def announce(self, info: StationInfo, *, online: bool) -> StationPresence:
        """Publish where the station is (best effort: routing heals on the next record)."""
        presence = self.record(info, online=online)
        envelope = self.factory.wrap("gateway.presence", info.station_id, presence)
        try:
            await self.producer.publish(STATION_PRESENCE, envelope)
        except BusUnavailable as exc:
            log.warning("presence not published", station_id=info.station_id, error=str(exc))
        return presence


class PresenceFollower:
    """Reads the presence topic from its start, for ever, into a directory."""

    def __init__(
        self,
        bootstrap_servers: str,
        directory: PresenceDirectory,
        on_record: Callable[[StationPresence], None] | None = None,
        **client_kwargs: object,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.directory = directory
        self.on_record = on_record
        self.client_kwargs = client_kwargs
        self.caught_up = asyncio.Event()

    async def run(self) -> None:
        consumer = AIOKafkaConsumer(
            STATION_PRESENCE,
            bootstrap_servers=self.bootstrap_servers,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **self.client_kwargs,
        )
        await consumer.start()
        try:
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                if not batch:
                    self.caught_up.set()
                for records in batch.values():
                    for record in records:
                        self._apply(record.value)
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()

    def _apply(self, value: bytes | None) -> None:
        try:
            presence = unpack(decode(value), StationPresence)
        except UndecodableEvent:
            return
        if self.directory.apply(presence) and self.on_record is not None:
            self.on_record(presence)
