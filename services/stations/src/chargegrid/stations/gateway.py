"""Commands to stations through the gateway's StationControl, behind a small port.

The registry only needs a few things from a station: read and write configuration, trigger a
BootNotification (or a certificate renewal), deliver a signed certificate, a raw call
(GetBaseReport), and reserve an EVSE or cancel that. An unreachable station, a gateway that
is not configured or too slow are all "offline" to the caller (`StationUnreachable`); a
CALLERROR is `CommandRefused` carrying the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import grpc

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc

UNREACHABLE_CODES = frozenset(
    {grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
)


class StationUnreachable(Exception):
    """The station could not be asked (offline, no gateway, no answer in time)."""


class CommandRefused(Exception):
    """The station or the gateway refused the command (a CALLERROR or a bad request)."""

    def __init__(self, status: str, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status


@dataclass(frozen=True)
class ReadConfiguration:
    values: dict[str, tuple[str, bool]]
    unknown: list[str]


class StationCommands(Protocol):
    async def get_configuration(self, station_id: str, keys: list[str]) -> ReadConfiguration: ...

    async def set_configuration(self, station_id: str, values: dict[str, str]) -> dict[str, str]:
        """The station's status per key (Accepted, Rejected, RebootRequired, ...)."""
        ...

    async def trigger_boot(self, station_id: str) -> str: ...

    async def trigger(self, station_id: str, message: str) -> str:
        """A TriggerMessage by its version-neutral name; the station's status."""
        ...

    async def set_network_profile(
        self, station_id: str, slot: int, security_profile: int, csms_url: str
    ) -> str:
        """2.x SetNetworkProfile; the station's status."""
        ...

    async def reset(self, station_id: str) -> str:
        """Reset OnIdle (a 2.x station then reconnects with its new network profile)."""
        ...

    async def certificate_signed(
        self, station_id: str, chain_pem: str, certificate_type: str
    ) -> str:
        """CertificateSigned with the chain; the station's status (Accepted / Rejected)."""
        ...

    async def call(
        self, station_id: str, action: str, payload: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def reserve_now(self, request: pb.ReserveNowRequest) -> str:
        """The station's ReserveNow status (Accepted, Occupied, Faulted, Unavailable, ...)."""
        ...

    async def cancel_reservation(self, station_id: str, reservation_id: int) -> str: ...


def _refusal(exc: grpc.aio.AioRpcError) -> Exception:
    if exc.code() in UNREACHABLE_CODES:
        return StationUnreachable(exc.details() or exc.code().name)
    status = "NotSupported" if exc.code() == grpc.StatusCode.UNIMPLEMENTED else "Rejected"
    return CommandRefused(status, exc.details() or exc.code().name)


class GatewayCommands:
    """StationCommands over gRPC; without a channel every station is unreachable."""

    def __init__(self, channel: grpc.aio.Channel | None, timeout_s: float) -> None:
        self._stub: pb_grpc.StationControlAsyncStub | None = (
            pb_grpc.StationControlStub(channel) if channel is not None else None
        )
        self.timeout_s = timeout_s

    def _control(self) -> pb_grpc.StationControlAsyncStub:
        if self._stub is None:
            raise StationUnreachable("no gateway address is configured")
        return self._stub

    async def get_configuration(self, station_id: str, keys: list[str]) -> ReadConfiguration:
        request = pb.GetConfigurationRequest(station_id=station_id, keys=keys)
        try:
            reply = await self._control().GetConfiguration(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise _refusal(exc) from exc
        values = {v.key: (v.value, v.readonly) for v in reply.values}
        return ReadConfiguration(values, list(reply.unknown_keys))

    async def set_configuration(self, station_id: str, values: dict[str, str]) -> dict[str, str]:
        request = pb.SetConfigurationRequest(
            station_id=station_id,
            values=[pb.ConfigurationValue(key=k, value=v) for k, v in values.items()],
        )
        try:
            reply = await self._control().SetConfiguration(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise _refusal(exc) from exc
        return {result.key: result.status for result in reply.results}

    async def trigger_boot(self, station_id: str) -> str:
        return await self.trigger(station_id, "BootNotification")

    async def trigger(self, station_id: str, message: str) -> str:
        request = pb.TriggerMessageRequest(station_id=station_id, message=message)
        try:
            reply = await self._control().TriggerMessage(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise _refusal(exc) from exc
        return str(reply.status)

    async def certificate_signed(
        self, station_id: str, chain_pem: str, certificate_type: str
    ) -> str:
        request = pb.CertificateSignedRequest(
            station_id=station_id, certificate_chain=chain_pem, certificate_type=certificate_type
        )
        try:
            reply = await self._control().CertificateSigned(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise _refusal(exc) from exc
        return str(reply.status)

    async def set_network_profile(
        self, station_id: str, slot: int, security_profile: int, csms_url: str
    ) -> str:
        request = pb.SetNetworkProfileRequest(
            station_id=station_id,
            configuration_slot=slot,
            security_profile=security_profile,
            csms_url=csms_url,
        )
        try:
            reply = await self._control().SetNetworkProfile(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise _refusal(exc) from exc
        return str(reply.status)

    async def reset(self, station_id: str) -> str:
        request = pb.ResetRequest(station_id=station_id, kind=pb.RESET_KIND_ON_IDLE)
        try:
            reply = await self._control().Reset(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise _refusal(exc) from exc
        return str(reply.status)

    async def call(self, station_id: str, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = pb.RawCallRequest(
            station_id=station_id, action=action, payload_json=json.dumps(payload)
        )
        try:
            reply = await self._control().Call(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise _refusal(exc) from exc
        answer = json.loads(reply.payload_json or "{}")
        return answer if isinstance(answer, dict) else {}

    async def reserve_now(self, request: pb.ReserveNowRequest) -> str:
        try:
            reply = await self._control().ReserveNow(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise _refusal(exc) from exc
        return str(reply.status)

    async def cancel_reservation(self, station_id: str, reservation_id: int) -> str:
        request = pb.CancelReservationRequest(station_id=station_id, reservation_id=reservation_id)
        try:
            reply = await self._control().CancelReservation(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            raise _refusal(exc) from exc
        return str(reply.status)
