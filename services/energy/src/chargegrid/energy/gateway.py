"""Charging profiles to stations through the gateway's StationControl, behind a port.

Every answer is one of four outcomes the controller acts on: ACCEPTED (the station took
the limit), REJECTED (it said no, or the gateway refused the command), OFFLINE (no
connection) and TIMEOUT (no answer in time). Only ACCEPTED confirms a limit; the others
leave the EVSE stale, counted at its maximum until it confirms again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

import grpc

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc

ACCEPTED_STATUSES = frozenset({"Accepted"})
#: How far ahead a composite schedule is asked for: only the limit in force now matters.
COMPOSITE_DURATION_S = 60


class Outcome(enum.Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    OFFLINE = "offline"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class ProfileResult:
    outcome: Outcome
    #: The station's status (Accepted, Rejected, ...) or the gRPC code's name.
    status: str
    detail: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome is Outcome.ACCEPTED


class StationControl(Protocol):
    async def set_profile(
        self, station_id: str, evse_id: int, profile: pb.ChargingProfile
    ) -> ProfileResult: ...

    async def clear_profile(
        self, station_id: str, evse_id: int, profile_id: int
    ) -> ProfileResult: ...

    async def composite_limit_a(self, station_id: str, evse_id: int) -> float | None: ...


def _failure(exc: grpc.aio.AioRpcError) -> ProfileResult:
    code = exc.code()
    detail = exc.details() or code.name
    if code in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.UNAVAILABLE):
        return ProfileResult(Outcome.OFFLINE, code.name, detail)
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return ProfileResult(Outcome.TIMEOUT, code.name, detail)
    return ProfileResult(Outcome.REJECTED, code.name, detail)


def _reply(reply: pb.CommandReply) -> ProfileResult:
    status = str(reply.status) or "Accepted"
    outcome = Outcome.ACCEPTED if status in ACCEPTED_STATUSES else Outcome.REJECTED
    return ProfileResult(outcome, status, str(reply.status_reason))


class GatewayStationControl:
    """StationControl over gRPC; without a gateway every station is offline."""

    def __init__(self, channel: grpc.aio.Channel | None, timeout_s: float) -> None:
        self._stub = pb_grpc.StationControlStub(channel) if channel is not None else None
        self.timeout_s = timeout_s

    async def set_profile(
        self, station_id: str, evse_id: int, profile: pb.ChargingProfile
    ) -> ProfileResult:
        if self._stub is None:
            return ProfileResult(Outcome.OFFLINE, "NO_GATEWAY", "no gateway_address configured")
        request = pb.SetChargingProfileRequest(
            station_id=station_id, evse_id=evse_id, profile=profile
        )
        try:
            reply = await self._stub.SetChargingProfile(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            return _failure(exc)
        return _reply(reply)

    async def clear_profile(self, station_id: str, evse_id: int, profile_id: int) -> ProfileResult:
        if self._stub is None:
            return ProfileResult(Outcome.OFFLINE, "NO_GATEWAY", "no gateway_address configured")
        request = pb.ClearChargingProfileRequest(
            station_id=station_id, evse_id=evse_id, profile_id=profile_id
        )
        try:
            reply = await self._stub.ClearChargingProfile(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            return _failure(exc)
        return _reply(reply)

    async def composite_limit_a(self, station_id: str, evse_id: int) -> float | None:
        """The limit in force now on the EVSE, per phase in A, from GetCompositeSchedule; None
        when the station refuses, cannot be reached or answers in another unit."""
        if self._stub is None:
            return None
        request = pb.GetCompositeScheduleRequest(
            station_id=station_id, evse_id=evse_id, duration_s=COMPOSITE_DURATION_S, rate_unit="A"
        )
        try:
            reply = await self._stub.GetCompositeSchedule(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError:
            return None
        return composite_limit_a(reply)


def composite_limit_a(reply: pb.GetCompositeScheduleReply) -> float | None:
    """The first period's limit of an Accepted composite schedule in A (None otherwise)."""
    schedule = reply.schedule
    if reply.status != "Accepted" or schedule.rate_unit not in ("A", "") or not schedule.periods:
        return None
    first = min(schedule.periods, key=lambda period: period.start_period_s)
    return float(first.limit)
