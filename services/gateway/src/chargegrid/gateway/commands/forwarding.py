"""Forward a StationControl call to the gateway pod that holds the station.

Channels to peer pods are created once per address and reused; the forwarded call carries
the `x-chargegrid-forwarded` header so the receiving pod never forwards it again, the service
token, and what is left of the caller's deadline.
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf.message import Message

from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc
from chargegrid.gateway.commands.servicer import FORWARDED
from chargegrid.platform.grpc import DomainError, NotFound, Unavailable, create_channel


class _Relayed(DomainError):
    """The peer pod's status, passed through unchanged."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class PeerForwarder:
    def __init__(self, token: str | None, default_timeout_s: float = 30.0) -> None:
        self.token = token
        self.default_timeout_s = default_timeout_s
        self._stubs: dict[str, Any] = {}
        self._channels: list[grpc.aio.Channel] = []

    def _stub(self, address: str) -> Any:
        stub = self._stubs.get(address)
        if stub is None:
            channel = create_channel(
                address, token=self.token, default_timeout_s=self.default_timeout_s
            )
            self._channels.append(channel)
            stub = self._stubs[address] = pb_grpc.StationControlStub(channel)
        return stub

    async def __call__(
        self, address: str, method: str, request: Message, deadline_s: float | None
    ) -> Message:
        rpc = getattr(self._stub(address), method)
        try:
            reply: Message = await rpc(request, timeout=deadline_s, metadata=((FORWARDED, "1"),))
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNAVAILABLE:
                raise Unavailable(f"gateway pod at {address} is unreachable") from exc
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                raise NotFound(exc.details() or "station is not connected") from exc
            raise _Relayed(exc.code(), exc.details() or "") from exc
        return reply

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
