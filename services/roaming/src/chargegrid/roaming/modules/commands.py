"""commands module (we are the RECEIVER; mod_commands.asciidoc): a partner steers a station.

POST /commands/{START_SESSION|STOP_SESSION|RESERVE_NOW|CANCEL_RESERVATION|UNLOCK_CONNECTOR}
is answered at once with a CommandResponse; the command is stored and the station's answer
follows as a CommandResult to the response_url through the outbox
(`chargegrid.roaming.flows.commands`). Reservations are stored, so CANCEL_RESERVATION finds
its station after a restart. An unknown command is 404 (2000),
an invalid body 2001, an unknown location or EVSE 2003, a session that is not the partner's
UNKNOWN_SESSION; without a gateway every command is REJECTED.
"""

from __future__ import annotations

import math
from datetime import datetime

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import func, select
from starlette.requests import Request

from chargegrid.api.gateway.v1 import station_control_pb2 as gw
from chargegrid.platform.bus.envelope import set_timestamp
from chargegrid.roaming.context import RoamingContext, context_of
from chargegrid.roaming.flows.command_rows import ReservationRow
from chargegrid.roaming.flows.commands import CommandRunner, StationCall
from chargegrid.roaming.flows.listing import session_of_partner
from chargegrid.roaming.models import EvseRow
from chargegrid.roaming.modules.tokens import tokens_of
from chargegrid.roaming.ocpi.auth import partner_for
from chargegrid.roaming.ocpi.envelope import envelope
from chargegrid.roaming.ocpi.registry import RECEIVER, Module
from chargegrid.roaming.ocpi.status import OcpiError, Status, invalid, not_found
from chargegrid.roaming.partner_tokens import TokenRefused
from chargegrid.roaming.partners import Partner
from chargegrid.roaming.token_models import OcpiToken

router = APIRouter()
NAME = "commands"
URL = Field(min_length=1, max_length=255, pattern="^https?://")


class StartSession(BaseModel):
    response_url: str = URL
    token: OcpiToken
    location_id: str = Field(max_length=36)
    evse_uid: str | None = Field(default=None, max_length=36)
    connector_id: str | None = Field(default=None, max_length=36)
    authorization_reference: str | None = Field(default=None, max_length=36)


class StopSession(BaseModel):
    response_url: str = URL
    session_id: str = Field(max_length=36)


class ReserveNow(BaseModel):
    response_url: str = URL
    token: OcpiToken
    expiry_date: datetime
    reservation_id: str = Field(max_length=36)
    location_id: str = Field(max_length=36)
    evse_uid: str | None = Field(default=None, max_length=36)
    authorization_reference: str | None = Field(default=None, max_length=36)


class CancelReservation(BaseModel):
    response_url: str = URL
    reservation_id: str = Field(max_length=36)


class UnlockConnector(BaseModel):
    response_url: str = URL
    location_id: str = Field(max_length=36)
    evse_uid: str = Field(max_length=36)
    connector_id: str = Field(max_length=36)


MODELS: dict[str, type[BaseModel]] = {
    "START_SESSION": StartSession,
    "STOP_SESSION": StopSession,
    "RESERVE_NOW": ReserveNow,
    "CANCEL_RESERVATION": CancelReservation,
    "UNLOCK_CONNECTOR": UnlockConnector,
}


def runner_of(ctx: RoamingContext) -> CommandRunner:
    return ctx.services[NAME]  # type: ignore[no-any-return]


def response(result: str, ctx: RoamingContext, message: str = "") -> JSONResponse:
    timeout = max(1, math.ceil(runner_of(ctx).timeout_s))  # whole seconds, as OCPI has it
    body: dict[str, object] = {"result": result, "timeout": timeout}
    if message:
        body["message"] = [{"language": "en", "text": message}]
    return JSONResponse(envelope(body))


def reservation_number(reservation_id: str) -> int:
    """OCPP reservation ids are integers; an OCPI id that is not one is hashed into range."""
    if reservation_id.isdigit() and int(reservation_id) < 2**31:
        return int(reservation_id)
    return int.from_bytes(reservation_id.encode()[:8].ljust(8, b"\0"), "big") % (2**31 - 1) + 1


async def _evse(ctx: RoamingContext, location_id: str, evse_uid: str | None) -> EvseRow:
    async with ctx.sessions() as session:
        # OCPI ids are CiStrings: partners may send them in another case (some upper-case).
        query = select(EvseRow).where(func.upper(EvseRow.location_id) == location_id.upper())
        if evse_uid:
            query = query.where(func.upper(EvseRow.uid) == evse_uid.upper())
        found = await session.scalar(query.order_by(EvseRow.uid).limit(1))
    if found is None:
        raise not_found(f"unknown location {location_id!r} or EVSE {evse_uid!r}")
    return found


def _connector(text: str | None) -> int:
    return int(text) if text and text.isdigit() else 0


async def _call(ctx: RoamingContext, partner: Partner, body: BaseModel) -> StationCall | str:
    """The StationControl call of a command, or the CommandResponseType refusing it."""
    if isinstance(body, StartSession | ReserveNow):
        try:
            tokens_of(ctx).check_party(partner, body.token.country_code, body.token.party_id)
        except TokenRefused as exc:
            raise invalid(str(exc)) from None
        await tokens_of(ctx).remember(partner.id, body.token)
        evse = await _evse(ctx, body.location_id, body.evse_uid)
        token = gw.IdToken(
            id=body.token.uid, type="ISO14443" if body.token.type == "RFID" else "Central"
        )
        if isinstance(body, StartSession):
            evse_id = evse.evse_id if body.evse_uid else 0
            return StationCall("StartCharging", gw.StartChargingRequest(
                station_id=evse.station_id, id_token=token, evse_id=evse_id))  # fmt: skip
        request = gw.ReserveNowRequest(
            station_id=evse.station_id, reservation_id=reservation_number(body.reservation_id),
            evse_id=evse.evse_id if body.evse_uid else 0, id_token=token,
        )  # fmt: skip
        set_timestamp(request.expiry, body.expiry_date)
        return StationCall("ReserveNow", request)
    if isinstance(body, StopSession):
        row = await session_of_partner(ctx.sessions, partner.id, body.session_id)
        if row is None or row.status == "COMPLETED":
            return "UNKNOWN_SESSION"
        station_id, _, transaction_id = row.session_id.rpartition(":")
        return StationCall("StopCharging", gw.StopChargingRequest(
            station_id=station_id, transaction_id=transaction_id))  # fmt: skip
    if isinstance(body, CancelReservation):
        reservation = await _reservation(ctx, partner, body.reservation_id)
        return StationCall("CancelReservation", gw.CancelReservationRequest(
            station_id=reservation.station_id, reservation_id=reservation.number))  # fmt: skip
    assert isinstance(body, UnlockConnector)
    evse = await _evse(ctx, body.location_id, body.evse_uid)
    return StationCall("UnlockConnector", gw.UnlockConnectorRequest(
        station_id=evse.station_id, evse_id=evse.evse_id,
        connector_id=_connector(body.connector_id) or 1))  # fmt: skip


async def _reservation(
    ctx: RoamingContext, partner: Partner, reservation_id: str
) -> ReservationRow:
    """The partner's reservation (a CiString id: any case), stored by its RESERVE_NOW."""
    async with ctx.sessions() as session:
        found = await session.get(ReservationRow, (partner.id, reservation_id.upper()))
    if found is None:
        raise not_found(f"unknown reservation {reservation_id!r}")
    return found


async def _keep(ctx: RoamingContext, partner: Partner, command: str, body: BaseModel,
                call: StationCall) -> str:  # fmt: skip
    """The command (and a reservation) stored in one transaction; the command's id."""
    runner = runner_of(ctx)
    async with ctx.sessions.begin() as session:
        if isinstance(body, ReserveNow):
            await session.merge(ReservationRow(
                partner_id=partner.id, reservation_id=body.reservation_id.upper(),
                station_id=call.request.station_id, number=call.request.reservation_id,
                expiry=body.expiry_date, created_at=ctx.clock(),
            ))  # fmt: skip
        return runner.record(session, partner, command, call, body.response_url)  # type: ignore[attr-defined]


@router.post("/{command}")
async def command(
    command: str,
    request: Request,
    partner: Partner = Depends(partner_for(NAME)),
    ctx: RoamingContext = Depends(context_of),
) -> JSONResponse:
    model = MODELS.get(command)
    if model is None:
        raise OcpiError(Status.CLIENT_ERROR, f"unknown command {command!r}", 404)
    try:
        body = model.model_validate_json(await request.body())
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0].get("loc", ()))
        raise invalid(f"{command}: {where}: {exc.errors()[0]['msg']}") from None
    runner = runner_of(ctx)
    if not runner.available:
        return response("REJECTED", ctx, "no gateway configured")
    call = await _call(ctx, partner, body)
    if isinstance(call, str):
        return response(call, ctx)
    runner.launch(await _keep(ctx, partner, command, body, call), call)
    return response("ACCEPTED", ctx)


MODULE = Module(identifier=NAME, role=RECEIVER, router=router)
