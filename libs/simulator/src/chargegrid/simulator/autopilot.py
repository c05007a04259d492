"""Stations that charge on their own: plug in, charge a while (or until full), leave, repeat.

Demos and load tests need traffic that looks like a car park, not a script; each connector
gets its own loop with randomised idle times, stay lengths, cars and driver tokens.
"""

from __future__ import annotations

import asyncio
import random
from contextlib import suppress
from dataclasses import dataclass, replace

from chargegrid.simulator.charging import ConnectorBusyError
from chargegrid.simulator.ev import EVSpec
from chargegrid.simulator.model import StopReason
from chargegrid.simulator.station import Station

#: The id tokens simulated drivers present, SIMTAG0001..SIMTAG0100: enough that two stations
#: rarely hold the same one at once (a token charging elsewhere is refused as ConcurrentTx),
#: so a simulated car park runs many sessions side by side. `chargegrid dev` creates them.
SIMULATOR_ID_TAGS = tuple(f"SIMTAG{n:04d}" for n in range(1, 101))


@dataclass(frozen=True)
class AutoSessions:
    """How the simulated drivers behave (seconds are wall-clock seconds)."""

    idle_s: tuple[float, float] = (5.0, 30.0)
    stay_s: tuple[float, float] = (60.0, 300.0)
    initial_soc_percent: tuple[float, float] = (10.0, 60.0)
    cars: tuple[EVSpec, ...] = (
        EVSpec(capacity_kwh=60.0, max_power_w=11_000.0),
        EVSpec(capacity_kwh=40.0, max_power_w=7_400.0),
        EVSpec(capacity_kwh=77.0, max_power_w=22_000.0),
    )
    id_tags: tuple[str, ...] = SIMULATOR_ID_TAGS


async def drive_connector(
    station: Station, connector_id: int, plan: AutoSessions, rng: random.Random
) -> None:
    """Keep one connector busy the way `plan` describes, until cancelled."""
    while True:
        await station.wait_registered()
        await asyncio.sleep(rng.uniform(*plan.idle_s))
        if not station.registered:
            continue
        car = replace(
            rng.choice(plan.cars), initial_soc_percent=rng.uniform(*plan.initial_soc_percent)
        )
        try:
            session = station.plug_in(connector_id, ev=car, id_tag=rng.choice(plan.id_tags))
        except ConnectorBusyError:
            continue
        with suppress(TimeoutError):
            await asyncio.wait_for(session.finished.wait(), rng.uniform(*plan.stay_s))
        session.request_stop(StopReason.LOCAL)
        await session.finished.wait()
