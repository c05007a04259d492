"""Many stations in one process: ids, ramp-up, credentials, auto sessions, clean shutdown.

This is what `chargegrid sim`, the load tests and the benchmarks call. Stations are started
at a bounded rate so a CSMS sees a realistic connection storm rather than N handshakes in
the same millisecond, and each reconnects with backoff on its own.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from ssl import SSLContext
from types import TracebackType

from chargegrid.simulator.autopilot import AutoSessions, drive_connector
from chargegrid.simulator.clock import Clock, utc_now
from chargegrid.simulator.config import OcppVersion, StationConfig
from chargegrid.simulator.station import Station
from chargegrid.simulator.station16 import Station16
from chargegrid.simulator.station21 import Station21
from chargegrid.simulator.station201 import Station201

STATION_CLASSES: dict[OcppVersion, type[Station16] | type[Station201] | type[Station21]] = {
    OcppVersion.V16: Station16,
    OcppVersion.V201: Station201,
    OcppVersion.V21: Station21,
}

Password = str | Callable[[str], str] | None


def create_station(
    version: OcppVersion | str,
    config: StationConfig,
    url: str,
    *,
    clock: Clock = utc_now,
    ssl: SSLContext | None = None,
    id_factory: Callable[[], str] | None = None,
) -> Station:
    """A station of the given OCPP version ("1.6", "2.0.1" or "2.1")."""
    station_class = STATION_CLASSES[OcppVersion(version)]
    return station_class(config, url, clock=clock, ssl=ssl, id_factory=id_factory)


def station_id(prefix: str, index: int) -> str:
    """`SIM-0001` style ids: zero padded so they sort."""
    return f"{prefix}{index:04d}"


@dataclass(frozen=True)
class FleetSummary:
    """A snapshot for progress output."""

    stations: int
    connected: int
    registered: int
    charging: int
    energy_wh: float


class Fleet:
    """N stations against one CSMS URL; use `async with Fleet(...)` or start()/stop()."""

    def __init__(
        self,
        url: str,
        count: int,
        version: OcppVersion | str = OcppVersion.V16,
        *,
        template: StationConfig | None = None,
        id_prefix: str = "SIM-",
        first_index: int = 1,
        ramp_up_per_s: float = 20.0,
        password: Password = None,
        ssl: SSLContext | None = None,
        auto_sessions: AutoSessions | None = None,
        clock: Clock = utc_now,
        seed: int | None = None,
    ) -> None:
        self.url = url
        self.version = OcppVersion(version)
        self.ramp_up_per_s = ramp_up_per_s
        self.auto_sessions = auto_sessions
        self._rng = random.Random(seed)
        base = template or StationConfig(station_id=station_id(id_prefix, first_index))
        self.stations: list[Station] = []
        for index in range(first_index, first_index + count):
            name = station_id(id_prefix, index)
            secret = password(name) if callable(password) else password
            config = replace(base, station_id=name, password=secret)
            self.stations.append(create_station(self.version, config, url, clock=clock, ssl=ssl))
        self._drivers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Start every station, at most `ramp_up_per_s` per second."""
        pause = 1.0 / self.ramp_up_per_s if self.ramp_up_per_s > 0 else 0.0
        for position, station in enumerate(self.stations):
            if position and pause:
                await asyncio.sleep(pause)
            await station.start()
            if self.auto_sessions is not None:
                for connector_id in station.connectors:
                    rng = random.Random(self._rng.random())
                    driver = drive_connector(station, connector_id, self.auto_sessions, rng)
                    self._drivers.append(asyncio.create_task(driver))

    async def wait_registered(self, timeout_s: float | None = None) -> None:
        """Return once every station's boot was accepted."""
        waits = (station.wait_registered() for station in self.stations)
        await asyncio.wait_for(asyncio.gather(*waits), timeout_s)

    async def stop(self) -> None:
        """Stop the drivers, end running sessions, disconnect every station."""
        for driver in self._drivers:
            driver.cancel()
        await asyncio.gather(*self._drivers, return_exceptions=True)
        self._drivers.clear()
        await asyncio.gather(*(station.stop() for station in self.stations))

    def summary(self) -> FleetSummary:
        sessions = [
            c.session
            for station in self.stations
            for c in station.connectors.values()
            if c.session is not None
        ]
        return FleetSummary(
            stations=len(self.stations),
            connected=sum(1 for s in self.stations if s.outbox.online),
            registered=sum(1 for s in self.stations if s.registered),
            charging=sum(1 for s in sessions if s.power_w > 0),
            energy_wh=sum(
                c.meter.register_wh for s in self.stations for c in s.connectors.values()
            ),
        )

    async def __aenter__(self) -> Fleet:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()


async def run_fleet(
    url: str,
    stations: int,
    version: OcppVersion | str = OcppVersion.V16,
    *,
    duration_s: float | None = None,
    template: StationConfig | None = None,
    id_prefix: str = "SIM-",
    first_index: int = 1,
    ramp_up_per_s: float = 20.0,
    password: Password = None,
    ssl: SSLContext | None = None,
    auto_sessions: AutoSessions | None = None,
    clock: Clock = utc_now,
    seed: int | None = None,
    on_progress: Callable[[FleetSummary], None] | None = None,
    progress_every_s: float = 5.0,
) -> FleetSummary:
    """Run a fleet for `duration_s` (forever when None, until cancelled); return a summary.

    Cancelling the task (Ctrl-C in the CLI) still shuts every station down cleanly.
    """
    fleet = Fleet(
        url,
        stations,
        version,
        template=template,
        id_prefix=id_prefix,
        first_index=first_index,
        ramp_up_per_s=ramp_up_per_s,
        password=password,
        ssl=ssl,
        auto_sessions=auto_sessions,
        clock=clock,
        seed=seed,
    )
    loop = asyncio.get_running_loop()
    deadline = None if duration_s is None else loop.time() + duration_s
    async with fleet:
        while deadline is None or loop.time() < deadline:
            remaining = progress_every_s if deadline is None else deadline - loop.time()
            await asyncio.sleep(max(0.0, min(progress_every_s, remaining)))
            if on_progress is not None:
                on_progress(fleet.summary())
        return fleet.summary()
