"""The gateway's StationControl as this service needs it: local lists and ClearCache.

Answers come back as the station's status word; a station that could not be reached is
"offline" (not connected, or no gateway), "timeout" (no answer in time) or "error: <code>"
(the station refused the call), which is what the sync records and the RPCs report.
"""

from __future__ import annotations

import grpc

from chargegrid.api.gateway.v1 import station_control_pb2 as sc_pb
from chargegrid.api.gateway.v1.station_control_pb2_grpc import StationControlStub
from chargegrid.authorization.domain import LocalEntry
from chargegrid.platform.bus.envelope import set_timestamp

OFFLINE = "offline"
TIMEOUT = "timeout"


def _failure(exc: grpc.aio.AioRpcError) -> str:
    code = exc.code()
    if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE):
        return OFFLINE
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return TIMEOUT
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return "NotSupported"
    return f"error: {code.name}"


def to_local_authorization(entry: LocalEntry, removed: bool = False) -> sc_pb.LocalAuthorization:
    item = sc_pb.LocalAuthorization(
        id_token=sc_pb.IdToken(id=entry.id_token, type=entry.type),
        status="" if removed else entry.status,
        parent_id="" if removed else entry.parent_id,
    )
    if entry.expiry is not None and not removed:
        set_timestamp(item.expiry, entry.expiry)
    return item


class StationGateway:
    def __init__(self, channel: grpc.aio.Channel | None, timeout_s: float = 10.0) -> None:
        self._stub = StationControlStub(channel) if channel is not None else None
        self.timeout_s = timeout_s

    @property
    def configured(self) -> bool:
        return self._stub is not None

    async def send_local_list(
        self,
        station_id: str,
        version: int,
        update_type: str,
        entries: list[sc_pb.LocalAuthorization],
    ) -> str:
        if self._stub is None:
            return OFFLINE
        request = sc_pb.SendLocalListRequest(
            station_id=station_id, version=version, update_type=update_type, entries=entries
        )
        try:
            reply = await self._stub.SendLocalList(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            return _failure(exc)
        return reply.status or "Accepted"

    async def local_list_version(self, station_id: str) -> int | str:
        """The version the station holds, or why it could not be asked."""
        if self._stub is None:
            return OFFLINE
        try:
            reply = await self._stub.GetLocalListVersion(
                sc_pb.GetLocalListVersionRequest(station_id=station_id), timeout=self.timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            return _failure(exc)
        return int(reply.version)

    async def clear_cache(self, station_id: str) -> str:
        if self._stub is None:
            return OFFLINE
        try:
            reply = await self._stub.ClearCache(
                sc_pb.ClearCacheRequest(station_id=station_id), timeout=self.timeout_s
            )
        except grpc.aio.AioRpcError as exc:
            return _failure(exc)
        return reply.status
