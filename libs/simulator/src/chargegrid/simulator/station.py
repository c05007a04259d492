"""One simulated charge station: its connection, registration, heartbeat and reboots.

The station outlives its WebSocket connections. Each connection gets a fresh protocol link
from the version subclass (1.6, 2.0.1, 2.1); the state (meters, sessions, profiles, lists)
stays here, so a dropped connection or a reset behaves like it does on real hardware.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import random
import ssl as ssl_module
import uuid
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from contextlib import suppress
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

from chargegrid.simulator.authorize import Authorizer
from chargegrid.simulator.cards import CardMemory, present_card
from chargegrid.simulator.certificates import CertificateStore
from chargegrid.simulator.charging import ChargingController
from chargegrid.simulator.clock import Clock, utc_now
from chargegrid.simulator.config import OcppVersion, StationConfig
from chargegrid.simulator.ev import EVSpec
from chargegrid.simulator.firmware import FirmwareUpdater
from chargegrid.simulator.link import Link, OfflineError
from chargegrid.simulator.local_auth import AuthCache, LocalAuthList
from chargegrid.simulator.model import RFID_CARD, BootReason, Connector, Session, StopReason
from chargegrid.simulator.network_profiles import NetworkProfiles, ssl_context_for
from chargegrid.simulator.outbox import Outbox
from chargegrid.simulator.policy import StationPolicy
from chargegrid.simulator.profiles import ProfileStore
from chargegrid.simulator.registration import heartbeat, register
from chargegrid.simulator.uploads import LogUploader

log = logging.getLogger("chargegrid.simulator")

_SECURITY_EVENT_FOR_BOOT = {
    BootReason.POWER_UP: "StartupOfTheDevice",
    BootReason.REMOTE_RESET: "ResetOrReboot",
    BootReason.FIRMWARE_UPDATE: "FirmwareUpdated",
    BootReason.TRIGGERED: "ResetOrReboot",
}


class Station(ABC):
    """A charge station that connects, boots, heartbeats and charges until stopped."""

    version: ClassVar[OcppVersion]

    def __init__(
        self,
        config: StationConfig,
        url: str,
        *,
        clock: Clock = utc_now,
        ssl: ssl_module.SSLContext | None = None,
        id_factory: Callable[[], str] | None = None,
    ) -> None:
        self.config = config
        self.url = url
        self.clock = clock
        self.ssl = ssl
        self.new_id = id_factory or (lambda: str(uuid.uuid4()))
        self.firmware_version = config.firmware_version
        self.policy = StationPolicy.from_config(config)
        self.outbox = Outbox(config.station_id)
        self.connectors = {n: Connector(n) for n in range(1, config.connectors + 1)}
        self.profiles = ProfileStore()
        self.local_list = LocalAuthList()
        self.auth_cache = AuthCache()
        self.cards = CardMemory()
        self.journal: deque[tuple[datetime, str]] = deque(maxlen=2_000)
        self.authorizer = Authorizer(self)
        self.charging = ChargingController(self)
        self.firmware = FirmwareUpdater(self)
        self.uploads = LogUploader(self)
        self.certificates = CertificateStore(config.station_id, config.cpo_name, clock)
        self.network = NetworkProfiles()
        self.registration: str | None = None
        self.boot_count = 0
        #: CALLs the CSMS answered with a CALLRESULT, per action: what it acknowledged.
        self.answered: Counter[str] = Counter()
        #: The running cost the CSMS sent (2.x CostUpdated), by transaction id.
        self.displayed_cost: dict[str, Decimal] = {}
        self.connection_count = 0
        self.boot_reason = BootReason.POWER_UP
        self._registered = asyncio.Event()
        self._stopping = asyncio.Event()
        self._reboot = asyncio.Event()
        self._downtime_s = 0.0
        self._needs_boot = True
        self._task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()

    @property
    def station_id(self) -> str:
        return self.config.station_id

    @property
    def endpoint(self) -> str:
        """The CSMS URL with the station id as last path segment, as OCPP-J requires."""
        return f"{self.url.rstrip('/')}/{quote(self.station_id, safe='')}"

    @property
    def registered(self) -> bool:
        return self._registered.is_set()

    # lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Run in the background until `stop()`."""
        if self._task is None or self._task.done():
            self._stopping.clear()
            self._task = asyncio.create_task(self.run(), name=f"station-{self.station_id}")

    async def run(self) -> None:
        """Connect, and reconnect with exponential backoff, until stopped."""
        delay = self.config.reconnect_min_s
        while not self._stopping.is_set():
            connected = await self._connect_once()
            if self._stopping.is_set():
                break
            if self._reboot.is_set():
                self._reboot.clear()
                await self._pause(self._downtime_s)
                delay = self.config.reconnect_min_s
                continue
            if connected:
                delay = self.config.reconnect_min_s
            await self._pause(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.config.reconnect_max_s)

    async def stop(self, timeout_s: float = 10.0) -> None:
        """End sessions (if configured), disconnect and cancel every background task."""
        if self.config.stop_sessions_on_shutdown and self.outbox.online:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.charging.stop_all(StopReason.LOCAL), timeout_s)
        self._stopping.set()
        if self._task is not None:
            _, late = await asyncio.wait({self._task}, timeout=timeout_s)
            for task in late:
                task.cancel()
        tasks = [t for t in (self._task, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None

    async def wait_registered(self, timeout_s: float | None = None) -> None:
        """Return once BootNotification was accepted on the current connection."""
        await asyncio.wait_for(self._registered.wait(), timeout_s)

    def spawn(self, work: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run `work` in the background, tracked so `stop()` can cancel it."""
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: background task failed", self.station_id, exc_info=task.exception())

    def note(self, text: str) -> None:
        """Record what happened, for the diagnostics file and the log."""
        self.journal.append((self.clock(), text))
        log.debug("%s: %s", self.station_id, text)

    def request_reboot(self, reason: BootReason, downtime_s: float | None = None) -> None:
        """Drop the connection, stay down for a while, then come back and boot again."""
        self.boot_reason = reason
        self._downtime_s = self.config.reboot_delay_s if downtime_s is None else downtime_s
        self._needs_boot = True
        self.note(f"rebooting ({reason})")
        self._reboot.set()

    def drop_connection(self, downtime_s: float) -> None:
        """Lose the connection (no reboot, sessions keep charging) and come back after
        `downtime_s`, as a station with a flaky modem does."""
        self._downtime_s = downtime_s
        self.note(f"connection dropped for {downtime_s:g} s")
        self._reboot.set()

    def change_password(self, password: str) -> None:
        """Use new HTTP Basic credentials from the next connection on, as real stations do."""
        self.config = replace(self.config, password=password)
        self.note("basic auth password changed")

    async def reset(self, reason: StopReason) -> None:
        """End every transaction with `reason`, then reboot."""
        await self.charging.stop_all(reason)
        self.request_reboot(BootReason.REMOTE_RESET)

    # actions a test, the CLI or the autopilot drive -----------------------------------------

    def plug_in(
        self,
        connector_id: int | None = None,
        *,
        ev: EVSpec | None = None,
        id_tag: str | None = None,
    ) -> Session:
        """A driver plugs in and presents `id_tag`; the session runs in the background."""
        return self.charging.plug_in(connector_id, ev=ev, id_tag=id_tag)

    async def present_card(self, id_tag: str, token_type: str = RFID_CARD) -> str:
        """A driver presents a card at the running station to stop charging (see `cards`)."""
        return await present_card(self, id_tag, token_type)

    async def data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> tuple[str, str | None] | None:
        """Send DataTransfer; None when offline or refused with a CALLERROR."""
        return await self.outbox.send(lambda link: link.data_transfer(vendor_id, message_id, data))

    async def boot_on_trigger(self) -> None:
        """TriggerMessage(BootNotification): boot again without rebooting."""
        result = await self.outbox.send(
            lambda link: link.boot(BootReason.TRIGGERED, self.firmware_version)
        )
        if result is not None:
            self.registration = result.status
            if result.interval_s > 0:
                self.policy.set_heartbeat(float(result.interval_s))

    async def request_certificate(self, kind: str | None = None) -> str | None:
        """SignCertificate with a CSR on a new key (A03); the CSMS's status, None offline."""
        csr = self.certificates.new_csr(kind or "ChargingStationCertificate")
        return await self.outbox.send(lambda link: link.sign_certificate(csr, kind))

    async def security_event(self, kind: str, tech_info: str | None = None) -> None:
        await self.outbox.send(lambda link: link.security_event(kind, tech_info))

    # one connection --------------------------------------------------------------------------

    @abstractmethod
    def _open_link(self, connection: ClientConnection) -> Link:
        """The version's protocol link for a fresh connection."""

    def _headers(self) -> dict[str, str]:
        if self.config.password is None:
            return {}
        token = base64.b64encode(f"{self.station_id}:{self.config.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def _switch_network_profile(self) -> None:
        """A05: after a reset, connect with the first profile of the new priority."""
        chosen = self.network.next_profile()
        if chosen is None:
            return
        slot, profile = chosen
        self.url = profile.url
        self.ssl = ssl_context_for(self, profile) if profile.url.startswith("wss") else None
        self.network.active_slot = slot
        self.note(f"network profile {slot}: security profile {profile.security_profile}")

    async def _connect_once(self) -> bool:
        if self._needs_boot:
            self._switch_network_profile()
        options: dict[str, Any] = {}
        if self.ssl is not None:
            options["ssl"] = self.ssl
        try:
            async with connect(
                self.endpoint,
                subprotocols=[Subprotocol(self.version.subprotocol)],
                additional_headers=self._headers(),
                open_timeout=self.config.response_timeout_s,
                proxy=None,
                **options,
            ) as connection:
                if connection.subprotocol != self.version.subprotocol:
                    self.note(f"CSMS did not accept {self.version.subprotocol}")
                    return False
                self.connection_count += 1
                self.note("connected")
                await self._serve(connection)
                return True
        except (OSError, TimeoutError, WebSocketException) as exc:
            self.note(f"connection failed: {exc!r}")
            return False

    async def _serve(self, connection: ClientConnection) -> None:
        link = self._open_link(connection)
        watched = [
            asyncio.create_task(link.serve()),
            asyncio.create_task(self._lifecycle(link)),
            asyncio.create_task(self._reboot.wait()),
            asyncio.create_task(self._stopping.wait()),
        ]
        try:
            done, _ = await asyncio.wait(watched, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.error(
                        "%s: connection task failed", self.station_id, exc_info=task.exception()
                    )
        finally:
            self.outbox.detach()
            self._registered.clear()
            for task in watched:
                task.cancel()
            await asyncio.gather(*watched, return_exceptions=True)
            await connection.close()
            self.note("disconnected")

    async def _lifecycle(self, link: Link) -> None:
        try:
            if self._needs_boot or self.config.boot_on_reconnect:
                await register(self, link)
            self.outbox.attach(link)
            self._registered.set()
            if self.config.drop_connection_after_s:
                self.spawn(self._drop_later(self.connection_count), name=f"drop-{self.station_id}")
            for connector in self.connectors.values():
                await self.charging.announce(connector)
            if self._needs_boot:
                self._needs_boot = False
                await self._after_boot()
            await heartbeat(self)
        except OfflineError:
            return

    async def _drop_later(self, connection: int) -> None:
        await self._pause(self.config.drop_connection_after_s)
        # Only the connection it was armed on: a later one arms its own.
        if self.registered and self.connection_count == connection and not self._stopping.is_set():
            self.drop_connection(self.config.drop_downtime_s)

    async def _after_boot(self) -> None:
        if self.config.security_events:
            await self.security_event(_SECURITY_EVENT_FOR_BOOT[self.boot_reason])
        await self.firmware.after_boot()
        self.boot_reason = BootReason.POWER_UP

    async def _pause(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
