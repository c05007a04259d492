"""Billing's tariffs (newest version of each) over gRPC, and the poll that publishes them."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

import grpc

from chargegrid.api.billing.v1 import billing_pb2 as bp
from chargegrid.api.billing.v1.billing_pb2_grpc import BillingStub
from chargegrid.platform.logging import get_logger
from chargegrid.roaming.tariffs.store import TariffStore

log = get_logger(__name__)


class Tariffs(Protocol):
    async def snapshot(self) -> list[bp.Tariff]: ...


class BillingTariffs:
    def __init__(self, channel: grpc.aio.Channel, timeout_s: float) -> None:
        self.stub = BillingStub(channel)
        self.timeout_s = timeout_s

    async def snapshot(self) -> list[bp.Tariff]:
        found: list[bp.Tariff] = []
        request = bp.ListTariffsRequest()
        while True:
            request.page.page_size = 500
            reply = await self.stub.ListTariffs(request, timeout=self.timeout_s)
            found.extend(reply.tariffs)
            if not reply.next_page_token:
                return found
            request.page.page_token = reply.next_page_token


class TariffSync:
    def __init__(self, source: Tariffs, store: TariffStore, interval_s: float) -> None:
        self.source = source
        self.store = store
        self.interval_s = interval_s
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()

    async def once(self) -> int:
        async with self._lock:
            return await self.store.sync(await self.source.snapshot())

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                pushes = await self.once()
                if pushes:
                    log.info("tariffs changed", pushes=pushes)
            except Exception as exc:  # billing away: the projection stays, next tick retries
                log.warning("tariffs poll failed", error=repr(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)

    def stop(self) -> None:
        self._stopping.set()
