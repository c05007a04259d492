"""Delivery of station-initiated messages across reconnects.

Transaction messages must reach the CSMS even if the connection drops (billing depends on
them), so they wait for the next connection and retry; status and meter chatter that is
stale by then is dropped instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ocpp.exceptions import OCPPError

from chargegrid.simulator.link import Link, OfflineError

T = TypeVar("T")

log = logging.getLogger("chargegrid.simulator")


class Outbox:
    """Sends through the current link once the station is registered (boot Accepted)."""

    def __init__(self, station_id: str, attempts: int = 3, retry_s: float = 1.0) -> None:
        self.station_id = station_id
        self.attempts = attempts
        self.retry_s = retry_s
        self._link: Link | None = None
        self._online = asyncio.Event()

    @property
    def online(self) -> bool:
        return self._link is not None

    def attach(self, link: Link) -> None:
        self._link = link
        self._online.set()

    def detach(self) -> None:
        self._link = None
        self._online.clear()

    async def wait_online(self) -> None:
        await self._online.wait()

    async def send(
        self, action: Callable[[Link], Awaitable[T]], *, durable: bool = False
    ) -> T | None:
        """Run `action` on the link; None when it could not be delivered (and not durable)."""
        failures = 0
        while True:
            link = self._link
            if link is None:
                if not durable:
                    return None
                await self._online.wait()
                continue
            try:
                return await action(link)
            except OfflineError:
                if not durable:
                    return None
            except (OCPPError, TimeoutError) as exc:
                failures += 1
                log.warning(
                    "%s: message failed (%s/%s): %r", self.station_id, failures, self.attempts, exc
                )
                if not durable or failures >= self.attempts:
                    return None
                await asyncio.sleep(self.retry_s)
