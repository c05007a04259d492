"""Registration and liveness on a fresh connection: BootNotification, then Heartbeat.

A CSMS decides when a station may start talking (Pending, Rejected, Accepted) and how often
it must show it is alive; both loops follow exactly what the CSMS answered.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import TYPE_CHECKING

from chargegrid.simulator.link import Link, OfflineError

if TYPE_CHECKING:
    from chargegrid.simulator.station import Station


async def register(station: Station, link: Link) -> None:
    """BootNotification until Accepted, waiting the interval the CSMS asked for."""
    while True:
        try:
            result = await link.boot(station.boot_reason, station.firmware_version)
        except OfflineError:
            raise
        except Exception as exc:  # a CALLERROR, a timeout or a bad answer: retry later
            station.note(f"boot failed: {exc!r}")
            await asyncio.sleep(station.config.boot_retry_fallback_s)
            continue
        station.registration = result.status
        station.note(f"boot {result.status}, interval {result.interval_s}")
        if result.status == "Accepted":
            station.boot_count += 1
            if result.interval_s > 0:
                station.policy.set_heartbeat(float(result.interval_s))
            return
        await asyncio.sleep(result.interval_s or station.config.boot_retry_fallback_s)


async def heartbeat(station: Station) -> None:
    """Heartbeat at the current interval; a changed interval restarts the wait."""
    policy = station.policy
    while True:
        policy.heartbeat_changed.clear()
        with suppress(TimeoutError):
            await asyncio.wait_for(policy.heartbeat_changed.wait(), policy.heartbeat_interval_s)
            continue
        await station.outbox.send(lambda link: link.heartbeat())
