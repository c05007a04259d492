"""Commands to stations through the gateway's StationControl, behind a small port.

An unreachable station, a gateway that is not configured or too slow are all "offline" to
the caller (`StationUnreachable`); a CALLERROR or a bad request is `CommandRefused`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import grpc

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc
from chargegrid.platform.bus.envelope import set_timestamp

UNREACHABLE_CODES = frozenset(
    {grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
)


class StationUnreachable(Exception):
    """The station could not be asked (offline, no gateway, no answer in time)."""


class CommandRefused(Exception):
    """The station or the gateway refused the command."""


@dataclass(frozen=True)
class FirmwareOrder:
    location: str
    request_id: int
    retries: int = 0
    retry_interval_s: int = 0
    retrieve_at: datetime | None = None
    install_at: datetime | None = None
    signing_certificate: str = ""
    signature: str = ""


@dataclass(frozen=True)
class LogOrder:
    location: str
    kind: str
    request_id: int
    oldest: datetime | None = None
    latest: datetime | None = None
    retries: int = 0
    retry_interval_s: int = 0


@dataclass(frozen=True)
class LogAnswer:
    status: str
    file_name: str


class FirmwareCommands(Protocol):
    async def update_firmware(self, station_id: str, order: FirmwareOrder) -> str:
        """The station's answer (Accepted, Rejected, InvalidCertificate, ...)."""
        ...

    async def get_logs(self, station_id: str, order: LogOrder) -> LogAnswer: ...


def _refusal(exc: grpc.aio.AioRpcError) -> Exception:
    if exc.code() in UNREACHABLE_CODES:
        return StationUnreachable(exc.details() or exc.code().name)
    return CommandRefused(exc.details() or exc.code().name)


class GatewayCommands:
    """FirmwareCommands over gRPC; without a channel every station is unreachable."""

    def __init__(self, channel: grpc.aio.Channel | None, timeout_s: float) -> None:
        self._stub: pb_grpc.StationControlAsyncStub | None = (
            pb_grpc.StationControlStub(channel) if channel is not None else None
        )
        self.timeout_s = timeout_s

    def _control(self) -> pb_grpc.StationControlAsyncStub:
        if self._stub is None:
            raise StationUnreachable("no gateway address is configured")
        return self._stub

    async def update_firmware(self, station_id: str, order: FirmwareOrder) -> str:
        request = pb.UpdateFirmwareRequest(
            station_id=station_id,
            location=order.location,
            retries=order.retries,
            retry_interval_s=order.retry_interval_s,
            request_id=order.request_id,
            signing_certificate=order.signing_certificate,
            signature=order.signature,
        )
        if order.retrieve_at is not None:
            set_timestamp(request.retrieve_at, order.retrieve_at)
        if order.install_at is not None:
            set_timestamp(request.install_at, order.install_at)
        try:
            reply = await self._control().UpdateFirmware(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise _refusal(exc) from exc
        return str(reply.status) or "Accepted"

    async def get_logs(self, station_id: str, order: LogOrder) -> LogAnswer:
        request = pb.GetLogsRequest(
            station_id=station_id,
            location=order.location,
            kind=order.kind,
            request_id=order.request_id,
            retries=order.retries,
            retry_interval_s=order.retry_interval_s,
        )
        if order.oldest is not None:
            set_timestamp(request.oldest, order.oldest)
        if order.latest is not None:
            set_timestamp(request.latest, order.latest)
        try:
            reply = await self._control().GetLogs(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise _refusal(exc) from exc
        return LogAnswer(str(reply.status) or "Accepted", str(reply.file_name))
