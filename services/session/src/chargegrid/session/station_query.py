"""Asking a station about one of its transactions (OCPP 2.x GetTransactionStatus, E14).

The session service reaches stations only through the gateway's StationControl `Call`
(any gateway pod forwards it to the one holding the station). The answer is read as the
specification words it: `ongoingIndicator` (present when a transaction id was asked about)
and `messagesInQueue`; an answer without `ongoingIndicator` is not taken as "not ongoing".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import grpc
import orjson

from chargegrid.api.gateway.v1 import station_control_pb2 as ctl
from chargegrid.api.gateway.v1.station_control_pb2_grpc import StationControlStub

ACTION = "GetTransactionStatus"


class StationOffline(Exception):
    """The station is not connected to any gateway, or the gateway is not reachable."""


class StatusNotSupported(Exception):
    """The station answered NotImplemented / NotSupported (or speaks no version with it)."""


class StatusUnreadable(Exception):
    """The station's answer lacks what the decision needs."""


@dataclass(frozen=True)
class TransactionStatus:
    ongoing: bool
    messages_in_queue: bool


class StationQuery(Protocol):
    """How the session service asks a station (the gateway's StationControl in production)."""

    async def transaction_status(self, station_id: str, transaction_id: str) -> TransactionStatus:
        """GetTransactionStatus; raises StationOffline, StatusNotSupported, StatusUnreadable,
        or another error (a timeout among them)."""
        ...


def status_of(answer: Any) -> TransactionStatus:
    """The decision's inputs from a GetTransactionStatusResponse payload."""
    if not isinstance(answer, dict):
        raise StatusUnreadable(f"not an object: {answer!r}")
    ongoing, queued = answer.get("ongoingIndicator"), answer.get("messagesInQueue")
    if not isinstance(ongoing, bool) or not isinstance(queued, bool):
        raise StatusUnreadable(f"ongoingIndicator/messagesInQueue missing: {answer!r}")
    return TransactionStatus(ongoing=ongoing, messages_in_queue=queued)


class GatewayStationQuery:
    """StationQuery over the gateway's raw `Call`, with the service token of the channel."""

    def __init__(self, channel: grpc.aio.Channel, timeout_s: float) -> None:
        self._control: Any = StationControlStub(channel)
        self.timeout_s = timeout_s

    async def transaction_status(self, station_id: str, transaction_id: str) -> TransactionStatus:
        request = ctl.RawCallRequest(
            station_id=station_id,
            action=ACTION,
            payload_json=orjson.dumps({"transactionId": transaction_id}).decode(),
        )
        try:
            reply = await self._control.Call(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.UNIMPLEMENTED:
                raise StatusNotSupported(exc.details() or "") from exc
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE):
                raise StationOffline(exc.details() or exc.code().name) from exc
            raise
        try:
            return status_of(orjson.loads(reply.payload_json or "{}"))
        except orjson.JSONDecodeError as exc:
            raise StatusUnreadable(str(exc)) from exc
