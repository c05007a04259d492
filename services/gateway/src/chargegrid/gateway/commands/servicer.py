"""The StationControl gRPC service: run a command where the station is connected.

A command for a station this pod holds is translated into the station's OCPP version and
sent (one outstanding CALL per station; later ones queue). A command for a station another
pod holds is forwarded once to that pod (found in the presence directory); a forwarded call
that does not find the station either answers NOT_FOUND instead of forwarding again. The
station's CALLERROR and the gateway's own failures become gRPC status codes here, in one
place: offline -> NOT_FOUND, no answer -> DEADLINE_EXCEEDED, NotImplemented/NotSupported ->
UNIMPLEMENTED, schema violations -> INVALID_ARGUMENT, any other refusal -> FAILED_PRECONDITION.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import grpc
import orjson
from google.protobuf.message import Message

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc
from chargegrid.api.gateway.v1.presence_pb2 import StationPresence
from chargegrid.gateway.commands.message_limits import ENTRIES, send_within_limits
from chargegrid.gateway.commands.translation import InvalidCommand, Translator, Unsupported
from chargegrid.gateway.connection import (
    StationCallError,
    StationConnection,
    StationNotAccepted,
    StationOffline,
    StationTimeout,
)
from chargegrid.gateway.presence import PresenceDirectory
from chargegrid.gateway.protocol.errors import ErrorCode, OcppError, from_wire
from chargegrid.gateway.protocol.versions import OcppVersion
from chargegrid.gateway.registry import ConnectionRegistry
from chargegrid.platform.grpc import (
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unimplemented,
)
from chargegrid.platform.identifiers import STATION_ID

FORWARDED = "x-chargegrid-forwarded"
MAX_PAGE = 1000
_CALLER_FAULTS = {
    ErrorCode.FORMAT_VIOLATION,
    ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION,
    ErrorCode.TYPE_CONSTRAINT_VIOLATION,
}

Forwarder = Callable[[str, str, Message, float | None], Any]
Context = grpc.aio.ServicerContext[Any, Any]


def station_error(exc: StationCallError) -> Exception:
    """A station's CALLERROR as the gRPC error the caller sees."""
    code = from_wire(exc.code)
    text = f"station answered {exc.code}: {exc.description}".strip()
    if code in (ErrorCode.NOT_IMPLEMENTED, ErrorCode.NOT_SUPPORTED):
        return Unimplemented(text)
    if code in _CALLER_FAULTS:
        return InvalidArgument(text)
    return FailedPrecondition(text)


def _connection_message(presence: StationPresence) -> pb.Connection:
    return pb.Connection(
        station_id=presence.station_id,
        gateway_pod=presence.gateway_pod,
        grpc_address=presence.grpc_address,
        ocpp_version=presence.ocpp_version,
        connected_at=presence.connected_at,
        remote_address=presence.remote_address,
        security_profile=presence.security_profile,
    )


class StationControlService(pb_grpc.StationControlServicer):
    def __init__(
        self,
        registry: ConnectionRegistry,
        directory: PresenceDirectory,
        translators: Mapping[OcppVersion, Translator],
        forward: Forwarder,
        pod_name: str,
        call_timeout_s: float,
    ) -> None:
        self.registry = registry
        self.directory = directory
        self.translators = translators
        self.forward = forward
        self.pod_name = pod_name
        self.call_timeout_s = call_timeout_s

    # -- routing ---------------------------------------------------------------------------

    def _timeout(self, context: grpc.aio.ServicerContext[Any, Any]) -> float:
        remaining = context.time_remaining()
        return self.call_timeout_s if remaining is None else min(self.call_timeout_s, remaining)

    async def _route(
        self, method: str, request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> StationConnection | Message:
        """The local connection, or the reply another pod gave for the forwarded call."""
        station_id = STATION_ID.check(request.station_id, "station_id")
        connection = self.registry.get(station_id)
        if connection is not None:
            return connection
        forwarded = any(key == FORWARDED for key, _ in context.invocation_metadata() or ())
        owner = self.directory.owner(station_id)
        if forwarded or owner is None or owner.gateway_pod == self.pod_name:
            raise NotFound(f"station {station_id} is not connected")
        reply: Message = await self.forward(
            owner.grpc_address, method, request, context.time_remaining()
        )
        return reply

    async def _send(
        self, connection: StationConnection, action: str, payload: dict[str, Any], deadline_s: float
    ) -> dict[str, Any]:
        try:
            return await connection.call(action, payload, deadline_s)
        except OcppError as exc:
            raise InvalidArgument(
                f"{action} payload breaks the OCPP {connection.version} schema: {exc.description}"
            ) from exc
        except StationNotAccepted as exc:
            raise FailedPrecondition(str(exc)) from exc
        except StationOffline as exc:
            raise NotFound(str(exc)) from exc
        except StationTimeout as exc:
            raise DeadlineExceeded(str(exc)) from exc
        except StationCallError as exc:
            raise station_error(exc) from exc

    async def command(
        self, method: str, request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> Message:
        target = await self._route(method, request, context)
        if not isinstance(target, StationConnection):
            return target
        translator = self.translators[target.version]
        try:
            action, payload = translator.request(method, request)
        except Unsupported as exc:
            raise Unimplemented(f"OCPP {target.version} has no {method}: {exc}") from exc
        except InvalidCommand as exc:
            raise InvalidArgument(str(exc)) from exc
        timeout = self._timeout(context)
        if action in ENTRIES and target.version is not OcppVersion.V16:

            async def send(name: str, body: dict[str, Any]) -> dict[str, Any]:
                return await self._send(target, name, body, timeout)

            result, target.message_limits = await send_within_limits(
                action, payload, target.message_limits, send
            )
        else:
            result = await self._send(target, action, payload, timeout)
        return translator.reply(method, request, result)

    # -- methods answered without translation ------------------------------------------------

    async def Call(
        self, request: pb.RawCallRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.RawCallReply:
        if not request.action:
            raise InvalidArgument("action is required")
        try:
            payload = orjson.loads(request.payload_json or "{}")
        except orjson.JSONDecodeError as exc:
            raise InvalidArgument(f"payload_json is not JSON: {exc}") from exc
        if not isinstance(payload, dict):
            raise InvalidArgument("payload_json must be a JSON object")
        target = await self._route("Call", request, context)
        if not isinstance(target, StationConnection):
            assert isinstance(target, pb.RawCallReply)
            return target
        result = await self._send(target, request.action, payload, self._timeout(context))
        return pb.RawCallReply(payload_json=orjson.dumps(result).decode())

    async def GetConnection(
        self, request: pb.GetConnectionRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.Connection:
        STATION_ID.check(request.station_id, "station_id")
        owner = self.directory.owner(request.station_id)
        if owner is None:
            raise NotFound(f"station {request.station_id} is not connected")
        return _connection_message(owner)

    async def ListConnections(
        self, request: pb.ListConnectionsRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> pb.ListConnectionsReply:
        size = request.page.page_size or 100
        if not 0 < size <= MAX_PAGE:
            raise InvalidArgument(f"page_size must be between 1 and {MAX_PAGE}")
        entries = sorted(
            (
                e
                for e in self.directory.online()
                if not request.gateway_pod or e.gateway_pod == request.gateway_pod
            ),
            key=lambda e: e.station_id,
        )
        after = request.page.page_token
        page = [e for e in entries if e.station_id > after][: size + 1]
        more = len(page) > size
        page = page[:size]
        return pb.ListConnectionsReply(
            connections=[_connection_message(e) for e in page],
            next_page_token=page[-1].station_id if more else "",
        )

    # -- typed commands: translated into the station's version and sent ------------------------

    async def StartCharging(
        self, request: pb.StartChargingRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("StartCharging", request, context))

    async def StopCharging(
        self, request: pb.StopChargingRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("StopCharging", request, context))

    async def Reset(self, request: pb.ResetRequest, context: Context) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("Reset", request, context))

    async def UnlockConnector(
        self, request: pb.UnlockConnectorRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("UnlockConnector", request, context))

    async def ChangeAvailability(
        self, request: pb.ChangeAvailabilityRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("ChangeAvailability", request, context))

    async def GetConfiguration(
        self, request: pb.GetConfigurationRequest, context: Context
    ) -> pb.GetConfigurationReply:
        return cast(
            pb.GetConfigurationReply, await self.command("GetConfiguration", request, context)
        )

    async def SetConfiguration(
        self, request: pb.SetConfigurationRequest, context: Context
    ) -> pb.SetConfigurationReply:
        return cast(
            pb.SetConfigurationReply, await self.command("SetConfiguration", request, context)
        )

    async def TriggerMessage(
        self, request: pb.TriggerMessageRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("TriggerMessage", request, context))

    async def UpdateFirmware(
        self, request: pb.UpdateFirmwareRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("UpdateFirmware", request, context))

    async def GetLogs(self, request: pb.GetLogsRequest, context: Context) -> pb.GetLogsReply:
        return cast(pb.GetLogsReply, await self.command("GetLogs", request, context))

    async def SetChargingProfile(
        self, request: pb.SetChargingProfileRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("SetChargingProfile", request, context))

    async def ClearChargingProfile(
        self, request: pb.ClearChargingProfileRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("ClearChargingProfile", request, context))

    async def GetCompositeSchedule(
        self, request: pb.GetCompositeScheduleRequest, context: Context
    ) -> pb.GetCompositeScheduleReply:
        return cast(
            pb.GetCompositeScheduleReply,
            await self.command("GetCompositeSchedule", request, context),
        )

    async def SendLocalList(
        self, request: pb.SendLocalListRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("SendLocalList", request, context))

    async def GetLocalListVersion(
        self, request: pb.GetLocalListVersionRequest, context: Context
    ) -> pb.GetLocalListVersionReply:
        return cast(
            pb.GetLocalListVersionReply, await self.command("GetLocalListVersion", request, context)
        )

    async def ReserveNow(self, request: pb.ReserveNowRequest, context: Context) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("ReserveNow", request, context))

    async def CancelReservation(
        self, request: pb.CancelReservationRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("CancelReservation", request, context))

    async def SetDisplayMessage(
        self, request: pb.SetDisplayMessageRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("SetDisplayMessage", request, context))

    async def GetDisplayMessages(
        self, request: pb.GetDisplayMessagesRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("GetDisplayMessages", request, context))

    async def ClearDisplayMessage(
        self, request: pb.ClearDisplayMessageRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("ClearDisplayMessage", request, context))

    async def SetVariableMonitoring(
        self, request: pb.SetVariableMonitoringRequest, context: Context
    ) -> pb.SetVariableMonitoringReply:
        reply = await self.command("SetVariableMonitoring", request, context)
        return cast(pb.SetVariableMonitoringReply, reply)

    async def ClearVariableMonitoring(
        self, request: pb.ClearVariableMonitoringRequest, context: Context
    ) -> pb.ClearVariableMonitoringReply:
        reply = await self.command("ClearVariableMonitoring", request, context)
        return cast(pb.ClearVariableMonitoringReply, reply)

    async def SetMonitoringBase(
        self, request: pb.SetMonitoringBaseRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("SetMonitoringBase", request, context))

    async def SetMonitoringLevel(
        self, request: pb.SetMonitoringLevelRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("SetMonitoringLevel", request, context))

    async def GetMonitoringReport(
        self, request: pb.GetMonitoringReportRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("GetMonitoringReport", request, context))

    async def ClearCache(self, request: pb.ClearCacheRequest, context: Context) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("ClearCache", request, context))

    async def DataTransfer(
        self, request: pb.DataTransferRequest, context: Context
    ) -> pb.DataTransferReply:
        return cast(pb.DataTransferReply, await self.command("DataTransfer", request, context))

    # -- certificates -------------------------------------------------------------------------

    async def CertificateSigned(
        self, request: pb.CertificateSignedRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("CertificateSigned", request, context))

    async def InstallCertificate(
        self, request: pb.InstallCertificateRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("InstallCertificate", request, context))

    async def DeleteCertificate(
        self, request: pb.DeleteCertificateRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("DeleteCertificate", request, context))

    async def GetInstalledCertificateIds(
        self, request: pb.GetInstalledCertificateIdsRequest, context: Context
    ) -> pb.GetInstalledCertificateIdsReply:
        return cast(
            pb.GetInstalledCertificateIdsReply,
            await self.command("GetInstalledCertificateIds", request, context),
        )

    async def SetNetworkProfile(
        self, request: pb.SetNetworkProfileRequest, context: Context
    ) -> pb.CommandReply:
        return cast(pb.CommandReply, await self.command("SetNetworkProfile", request, context))
