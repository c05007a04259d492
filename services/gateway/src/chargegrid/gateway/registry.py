"""The station connections this pod holds: one per station id, the newest wins.

A station that reconnects (after a network change, a reboot, or a half-open socket the
gateway has not noticed yet) replaces its old connection, which is closed. Connections
silent for longer than the idle limit are closed by a periodic sweep, one task for all.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

from chargegrid.gateway.connection import StationConnection
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
REPLACED = 4000  # application close code: a newer connection of the same station took over
IDLE = 4001


class ConnectionRegistry:
    def __init__(self) -> None:
        self._by_station: dict[str, StationConnection] = {}

    def __len__(self) -> int:
        return len(self._by_station)

    def __iter__(self) -> Iterator[StationConnection]:
        return iter(list(self._by_station.values()))

    def get(self, station_id: str) -> StationConnection | None:
        return self._by_station.get(station_id)

    def register(self, connection: StationConnection) -> StationConnection | None:
        """Hold `connection`; return the one it replaces, which the caller closes."""
        station_id = connection.station.station_id
        previous = self._by_station.get(station_id)
        self._by_station[station_id] = connection
        return previous

    def unregister(self, connection: StationConnection) -> bool:
        """Forget `connection` unless a newer one already replaced it."""
        station_id = connection.station.station_id
        if self._by_station.get(station_id) is connection:
            del self._by_station[station_id]
            return True
        return False

    async def sweep_idle(self, idle_timeout_s: float, every_s: float = 30.0) -> None:
        """Close connections that sent nothing for `idle_timeout_s`, forever."""
        while True:
            await asyncio.sleep(every_s)
            cutoff = time.monotonic() - idle_timeout_s
            for connection in self:
                if connection.last_seen < cutoff:
                    log.info(
                        "closing idle station connection", station_id=connection.station.station_id
                    )
                    await connection.close(IDLE, "idle timeout")
