"""The services' gRPC stubs and the one way every route calls them.

`Backends.call` forwards the caller's bearer token, applies the deadline and turns a failed
call into a `Problem` (problems.GRPC_TO_HTTP); a service without an address is 503 too.
Tests pass fake stubs (objects with the same async methods) instead of channels.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc

from chargegrid.api.analytics.v1 import analytics_pb2_grpc
from chargegrid.api.authorization.v1 import authorization_pb2_grpc
from chargegrid.api.billing.v1 import billing_pb2_grpc
from chargegrid.api.energy.v1 import energy_pb2_grpc
from chargegrid.api.firmware.v1 import firmware_pb2_grpc
from chargegrid.api.gateway.v1 import station_control_pb2_grpc
from chargegrid.api.session.v1 import session_pb2_grpc
from chargegrid.api.stations.v1 import stations_pb2_grpc
from chargegrid.console.auth import Caller
from chargegrid.console.problems import Problem, from_grpc
from chargegrid.console.settings import ConsoleSettings
from chargegrid.platform.grpc.client import create_channel

STUBS: dict[str, Any] = {
    "gateway": station_control_pb2_grpc.StationControlStub,
    "stations": stations_pb2_grpc.StationsStub,
    "authorization": authorization_pb2_grpc.AuthorizationStub,
    "session": session_pb2_grpc.SessionsStub,
    "billing": billing_pb2_grpc.BillingStub,
    "firmware": firmware_pb2_grpc.FirmwareStub,
    "energy": energy_pb2_grpc.EnergyStub,
    "analytics": analytics_pb2_grpc.AnalyticsStub,
}


class Backends:
    """One stub per configured service (created by `from_settings`, or given by tests)."""

    def __init__(
        self,
        stubs: Mapping[str, Any],
        timeout_s: float = 10.0,
        command_timeout_s: float = 35.0,
        channels: list[grpc.aio.Channel] | None = None,
    ) -> None:
        self.stubs = dict(stubs)
        self.timeout_s = timeout_s
        self.command_timeout_s = command_timeout_s
        self._channels = channels or []

    @classmethod
    def from_settings(cls, settings: ConsoleSettings) -> Backends:
        stubs: dict[str, Any] = {}
        channels: list[grpc.aio.Channel] = []
        for name, stub in STUBS.items():
            address = settings.backend_address(name)
            if not address:
                continue
            # No channel token: each call carries its caller's (or, for the live mirror,
            # the console's service token) explicitly.
            channel = create_channel(address, default_timeout_s=settings.call_timeout_s)
            channels.append(channel)
            stubs[name] = stub(channel)
        return cls(stubs, settings.call_timeout_s, settings.command_timeout_s, channels)

    def stub(self, service: str) -> Any:
        found = self.stubs.get(service)
        if found is None:
            raise Problem(
                503,
                f"the {service} service is not configured "
                f"(CHARGEGRID_CONSOLE_{service.upper()}_ADDRESS)",
                service=service,
            )
        return found

    async def call(
        self,
        service: str,
        method: str,
        request: Any,
        caller: Caller,
        *,
        timeout_s: float | None = None,
    ) -> Any:
        """`service.method(request)` as `caller`; a failure raises the matching Problem."""
        rpc = getattr(self.stub(service), method)
        try:
            return await rpc(
                request, metadata=caller.metadata(), timeout=timeout_s or self.timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            raise from_grpc(service, exc) from exc

    async def command(self, method: str, request: Any, caller: Caller) -> Any:
        """A station command through the gateway, with the longer command deadline."""
        return await self.call("gateway", method, request, caller, timeout_s=self.command_timeout_s)

    async def close(self) -> None:
        for channel in self._channels:
            await channel.close()
