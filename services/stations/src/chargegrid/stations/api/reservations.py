"""Reservations: the registry allocates the id, asks the station, and keeps the answer.

The row is written (Requested) before ReserveNow is sent, so its id is the one the station
holds and a ReservationStatusUpdate finds it. A station that cannot be asked or answers with
a CALLERROR leaves no row behind; a refusal (Occupied, Faulted, ...) is kept as what it is.
"""

from __future__ import annotations

from datetime import UTC, datetime

from chargegrid.api.gateway.v1 import station_control_pb2 as ctl
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform import identifiers as ids
from chargegrid.platform.grpc.errors import FailedPrecondition, InvalidArgument, Unavailable
from chargegrid.stations.api import validation as check
from chargegrid.stations.api.base import ApiBase, Context
from chargegrid.stations.api.convert import stamp
from chargegrid.stations.gateway import CommandRefused, StationUnreachable
from chargegrid.stations.models import ReservationRow
from chargegrid.stations.store import reservations as store
from chargegrid.stations.store.paging import next_token, page_of
from chargegrid.stations.store.stations import get_station

ACCEPTED = "Accepted"
TOKEN_TYPES = frozenset(
    {"Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress",
     "NoAuthorization"}
)  # fmt: skip


def reservation_to_proto(row: ReservationRow, now: datetime) -> pb.Reservation:
    message = pb.Reservation(
        reservation_id=row.id,
        station_id=row.station_id,
        evse_id=row.evse_id,
        connector_id=row.connector_id,
        id_token=row.id_token,
        token_type=row.token_type,
        group_id_token=row.group_id_token,
        status=store.effective_status(row, now),
        last_station_answer=row.last_station_answer,
        transaction_id=row.transaction_id,
    )
    stamp(message.expiry, row.expiry)
    stamp(message.created_at, row.created_at)
    stamp(message.updated_at, row.updated_at)
    return message


def _checked(request: pb.CreateReservationRequest, now: datetime) -> datetime:
    ids.ID_TOKEN.check(request.id_token, "id_token")
    ids.ID_TOKEN.check_optional(request.group_id_token, "group_id_token")
    if request.token_type and request.token_type not in TOKEN_TYPES:
        raise InvalidArgument(f"token_type must be one of {', '.join(sorted(TOKEN_TYPES))}")
    check.non_negative(request.evse_id, "evse_id")
    check.non_negative(request.connector_id, "connector_id")
    if not request.HasField("expiry"):
        raise InvalidArgument("expiry is required")
    expiry = request.expiry.ToDatetime(tzinfo=UTC)
    if expiry <= now:
        raise InvalidArgument("expiry must be in the future")
    return expiry


def _reserve_now(row: ReservationRow) -> ctl.ReserveNowRequest:
    command = ctl.ReserveNowRequest(
        station_id=row.station_id,
        reservation_id=row.id,
        evse_id=row.evse_id,
        connector_id=row.connector_id,
        id_token=ctl.IdToken(id=row.id_token, type=row.token_type or "ISO14443"),
        parent_id=row.group_id_token,
    )
    stamp(command.expiry, row.expiry)
    return command


class ReservationsApi(ApiBase):
    async def CreateReservation(
        self, request: pb.CreateReservationRequest, context: Context
    ) -> pb.Reservation:
        now = self.deps.clock()
        station_id = check.station_id(request.station_id, "station_id")
        expiry = _checked(request, now)
        async with self.deps.sessions() as session, session.begin():
            await get_station(session, station_id)
            row = ReservationRow(
                station_id=station_id, evse_id=request.evse_id,
                connector_id=request.connector_id, id_token=request.id_token,
                token_type=request.token_type, group_id_token=request.group_id_token,
                expiry=expiry, status=store.REQUESTED, last_station_answer="",
                created_at=now, updated_at=now,
            )  # fmt: skip
            session.add(row)
            await session.flush()
            reservation_id = row.id
            command = _reserve_now(row)
        try:
            answer = await self.deps.commands.reserve_now(command)
        except (StationUnreachable, CommandRefused) as failed:
            await self._forget(reservation_id)
            if isinstance(failed, StationUnreachable):
                raise Unavailable(f"station {station_id!r} is not reachable: {failed}") from None
            raise FailedPrecondition(f"the station refused ReserveNow: {failed}") from None
        return await self._settle(reservation_id, store.RESERVED if answer == ACCEPTED else answer,
                                  answer)  # fmt: skip

    async def _forget(self, reservation_id: int) -> None:
        async with self.deps.sessions() as session, session.begin():
            row = await session.get(ReservationRow, reservation_id)
            if row is not None:
                await session.delete(row)

    async def _settle(self, reservation_id: int, status: str | None, answer: str) -> pb.Reservation:
        """Record the station's answer (and the new status, when there is one)."""
        now = self.deps.clock()
        async with self.deps.sessions() as session, session.begin():
            row = await store.get_reservation(session, reservation_id)
            if status is not None and (row.status == store.REQUESTED or status == store.CANCELLED):
                row.status = status or "Rejected"
            row.last_station_answer, row.updated_at = answer, now
            return reservation_to_proto(row, now)

    async def CancelReservation(
        self, request: pb.CancelReservationRequest, context: Context
    ) -> pb.Reservation:
        now = self.deps.clock()
        async with self.deps.sessions() as session:
            row = await store.get_reservation(session, request.reservation_id)
            if not store.is_active(row, now):
                status = store.effective_status(row, now)
                raise FailedPrecondition(f"reservation {row.id} is {status}, not active")
            station_id = row.station_id
        try:
            answer = await self.deps.commands.cancel_reservation(station_id, request.reservation_id)
        except StationUnreachable as failed:
            raise Unavailable(f"station {station_id!r} is not reachable: {failed}") from None
        except CommandRefused as refused:
            raise FailedPrecondition(f"the station refused CancelReservation: {refused}") from None
        cancelled = store.CANCELLED if answer == ACCEPTED else None
        return await self._settle(request.reservation_id, cancelled, answer)

    async def GetReservation(
        self, request: pb.GetReservationRequest, context: Context
    ) -> pb.Reservation:
        async with self.deps.sessions() as session:
            row = await store.get_reservation(session, request.reservation_id)
            return reservation_to_proto(row, self.deps.clock())

    async def ListReservations(
        self, request: pb.ListReservationsRequest, context: Context
    ) -> pb.ListReservationsReply:
        station_id = check.optional_station_id(request.station_id, "station_id")
        page = page_of(request.page)
        if page.after is not None and not page.after.isdigit():
            raise InvalidArgument("page_token is not a token this service issued")
        now = self.deps.clock()
        async with self.deps.sessions() as session:
            rows = await store.list_reservations(
                session, station_id, request.active_only, page, now
            )
        return pb.ListReservationsReply(
            reservations=[reservation_to_proto(row, now) for row in rows[: page.size]],
            next_page_token=next_token([str(row.id) for row in rows], page),
        )
