"""OCPI commands -> the gateway's StationControl, and the CommandResult to the response_url.

The CommandResponse is answered at once (ACCEPTED with our timeout, or why not); the station
is then asked in the background and its answer (or TIMEOUT after `timeout_s`, FAILED when it
cannot be reached) is POSTed to the partner's response_url, retried a few times. A
START_SESSION's token is kept as the partner's, so the session it starts is theirs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc

from chargegrid.api.gateway.v1 import station_control_pb2 as gw
from chargegrid.api.gateway.v1.station_control_pb2_grpc import StationControlStub
from chargegrid.platform.logging import get_logger
from chargegrid.roaming.client import OcpiClient, PartnerCallFailed, Party
from chargegrid.roaming.partners import Partner

log = get_logger(__name__)

#: The station's OCPP status -> OCPI CommandResultType.
RESULTS = {
    "accepted": "ACCEPTED",
    "unlocked": "ACCEPTED",
    "rejected": "REJECTED",
    "unlockfailed": "FAILED",
    "ongoingauthorizedtransaction": "FAILED",
    "unknownconnector": "FAILED",
    "occupied": "EVSE_OCCUPIED",
    "faulted": "EVSE_INOPERATIVE",
    "unavailable": "EVSE_INOPERATIVE",
    "notsupported": "NOT_SUPPORTED",
}
RESULT_ATTEMPTS = 5


@dataclass(frozen=True)
class StationCall:
    """One StationControl call a command becomes."""

    method: str  # StartCharging, StopCharging, ReserveNow, CancelReservation, UnlockConnector
    request: Any


def result_of(status: str) -> str:
    return RESULTS.get(status.lower().replace("_", ""), "FAILED")


class CommandRunner:
    def __init__(
        self,
        channel: grpc.aio.Channel | None,
        client: OcpiClient,
        timeout_s: float = 30.0,
        retry_delay_s: float = 1.0,
    ) -> None:
        self._stub = StationControlStub(channel) if channel is not None else None
        self.client = client
        self.timeout_s = timeout_s
        self.retry_delay_s = retry_delay_s
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def available(self) -> bool:
        return self._stub is not None

    def start(self, partner: Partner, call: StationCall, response_url: str) -> None:
        task = asyncio.create_task(self._run(partner, call, response_url))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Shutdown: commands in flight are abandoned (their partners see no result)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def drain(self) -> None:
        """Wait for every command in flight (tests, shutdown)."""
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _run(self, partner: Partner, call: StationCall, response_url: str) -> None:
        result, message = await self._ask_station(call)
        body: dict[str, Any] = {"result": result}
        if message:
            body["message"] = [{"language": "en", "text": message[:512]}]
        await self._post_result(partner, response_url, body)

    async def _ask_station(self, call: StationCall) -> tuple[str, str]:
        assert self._stub is not None
        method: Callable[..., Awaitable[gw.CommandReply]] = getattr(self._stub, call.method)
        try:
            reply = await method(call.request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return "TIMEOUT", "the station did not answer in time"
            return "FAILED", f"{exc.code().name}: {exc.details() or ''}".strip()
        return result_of(reply.status), reply.status_reason

    async def _post_result(self, partner: Partner, url: str, body: dict[str, Any]) -> None:
        to = Party(partner.country_code, partner.party_id)
        for attempt in range(RESULT_ATTEMPTS):
            try:
                await self.client.call("POST", url, partner.their_token or "", body, to=to)
                return
            except PartnerCallFailed as exc:
                log.warning("CommandResult not delivered", url=url, attempt=attempt, error=str(exc))
                await asyncio.sleep(self.retry_delay_s * 2**attempt)
