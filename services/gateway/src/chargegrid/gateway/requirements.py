"""What a station must present at the handshake: its required security profile.

The stations service knows (`GetStationSecurity`: the profile set by the operator, and 1 as
soon as the station has a password); without it the credentials file says it (a listed
station needs Basic). Answers are cached briefly so reconnect storms cost one call per
station; while the service cannot answer, the last answer (up to `stale_ttl_s` old) still
counts (so a station known to need credentials stays refused), and with none the answer is
None: unknown. The credentials file is no fallback here: a station the service knows may
have a password the file lacks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import grpc

from chargegrid.api.stations.v1 import stations_pb2, stations_pb2_grpc
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)


class SecurityRequirements(Protocol):
    async def required_profile(self, station_id: str) -> int | None:
        """The lowest profile this station may connect with; None when it cannot be told."""
        ...


class NoRequirements:
    """Neither the stations service nor a credentials file: nothing is known to be required."""

    async def required_profile(self, station_id: str) -> int | None:
        return 0


class FileRequirements:
    """A station listed in the credentials file has a password, so it needs profile 1; the
    file is re-read only when it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._listed: frozenset[str] = frozenset()
        self._mtime: float | None = None

    async def required_profile(self, station_id: str) -> int | None:
        try:
            mtime = self.path.stat().st_mtime
            if mtime != self._mtime:
                self._listed = frozenset(json.loads(self.path.read_text() or "{}"))
                self._mtime = mtime
        except FileNotFoundError:
            self._listed, self._mtime = frozenset(), None
        except (OSError, ValueError, TypeError):
            log.error("credentials file unreadable", path=str(self.path))
            self._mtime = None
            return None
        return 1 if station_id in self._listed else 0


class ServiceRequirements:
    """`GetStationSecurity` of the stations service, cached for `cache_ttl_s`."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        *,
        timeout_s: float = 2.0,
        cache_ttl_s: float = 30.0,
        stale_ttl_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stub = stations_pb2_grpc.StationsStub(channel)
        self.timeout_s = timeout_s
        self.cache_ttl_s = cache_ttl_s
        self.stale_ttl_s = stale_ttl_s
        self.clock = clock
        self._known: dict[str, tuple[int, float]] = {}

    async def required_profile(self, station_id: str) -> int | None:
        cached = self._known.get(station_id)
        age = None if cached is None else self.clock() - cached[1]
        if cached is not None and age is not None and age < self.cache_ttl_s:
            return cached[0]
        try:
            reply = await self._stub.GetStationSecurity(
                stations_pb2.GetStationSecurityRequest(station_id=station_id),
                timeout=self.timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            log.warning(
                "stations service did not say what the station must present",
                station_id=station_id,
                error=exc.code().name,
            )
            if cached is not None and age is not None and age < self.stale_ttl_s:
                return cached[0]
            return None
        profile = int(reply.required_security_profile) if reply.known else 0
        self._known[station_id] = (profile, self.clock())
        return profile
