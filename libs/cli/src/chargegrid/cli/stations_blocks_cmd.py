"""`chargegrid stations reserve | cancel-reservation | reservations | alerts | display-messages`.

Reservations and alerts are the registry's (stations service); display messages go straight
to the station through the gateway (2.x only: a 1.6 station answers UNIMPLEMENTED).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import grpc
import typer

from chargegrid.api.gateway.v1 import station_control_pb2 as ctl
from chargegrid.api.gateway.v1.station_control_pb2_grpc import StationControlStub
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.api.stations.v1.stations_pb2_grpc import StationsStub
from chargegrid.cli.api import AddressOption, JsonOption, TokenOption, VarDirOption, call, paged
from chargegrid.cli.output import as_dict, fields, out, print_json, table
from chargegrid.cli.report_wait import new_request_id, wait_for_report
from chargegrid.cli.stations_cmd import PAGE, stations_app, when

REPORT = "NotifyDisplayMessages"
display_app = typer.Typer(help="Messages on a 2.x station's display: set, get, clear.")
stations_app.add_typer(display_app, name="display-messages")


def _show_reservation(reservation: pb.Reservation, json_output: bool) -> None:
    if json_output:
        print_json(as_dict(reservation))
        return
    fields(
        f"reservation {reservation.reservation_id}",
        [
            ("station", reservation.station_id),
            ("evse / connector", f"{reservation.evse_id} / {reservation.connector_id}"),
            ("token", f"{reservation.id_token} ({reservation.token_type or 'ISO14443'})"),
            ("status", reservation.status),
            ("station's answer", reservation.last_station_answer),
            ("expiry", when(reservation.expiry)),
        ],
    )


@stations_app.command("reserve")
def reserve(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    id_token: Annotated[str, typer.Option("--id-token", help="The token the EVSE is held for.")],
    token_type: Annotated[str, typer.Option(help="2.x IdTokenType.")] = "ISO14443",  # noqa: S107
    evse: Annotated[int, typer.Option(help="EVSE (2.x); 0 = any.")] = 0,
    connector: Annotated[int, typer.Option(help="Connector (1.6); 0 = any.")] = 0,
    minutes: Annotated[float, typer.Option(help="Held for this long.")] = 30.0,
    group: Annotated[str, typer.Option(help="Group id token (parent id).")] = "",
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Reserve an EVSE for a token (ReserveNow); the registry allocates the reservation id."""
    request = pb.CreateReservationRequest(
        station_id=station_id, evse_id=evse, connector_id=connector, id_token=id_token,
        token_type=token_type, group_id_token=group,
    )  # fmt: skip
    request.expiry.FromDatetime(datetime.now(UTC) + timedelta(minutes=minutes))

    async def work(channel: grpc.aio.Channel) -> pb.Reservation:
        reply: pb.Reservation = await StationsStub(channel).CreateReservation(request)
        return reply

    _show_reservation(call("stations", address, token, var_dir, work), json_output)


@stations_app.command("cancel-reservation")
def cancel_reservation(
    reservation_id: Annotated[int, typer.Argument(help="Reservation id.")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Cancel a reservation (CancelReservation to its station)."""

    async def work(channel: grpc.aio.Channel) -> pb.Reservation:
        reply: pb.Reservation = await StationsStub(channel).CancelReservation(
            pb.CancelReservationRequest(reservation_id=reservation_id)
        )
        return reply

    _show_reservation(call("stations", address, token, var_dir, work), json_output)


@stations_app.command("reservations")
def list_reservations(
    station: Annotated[str, typer.Option(help="Only this station's.")] = "",
    active: Annotated[bool, typer.Option(help="Only those still holding an EVSE.")] = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Reservations, newest first."""
    request = pb.ListReservationsRequest(station_id=station, active_only=active)

    async def work(channel: grpc.aio.Channel) -> list[pb.Reservation]:
        return await paged(StationsStub(channel).ListReservations, request, "reservations", PAGE)

    found = call("stations", address, token, var_dir, work)
    if json_output:
        print_json([as_dict(r) for r in found])
        return
    table(
        f"{len(found)} reservation(s)",
        ["id", "station", "evse", "connector", "token", "status", "expiry"],
        (
            [
                r.reservation_id,
                r.station_id,
                r.evse_id,
                r.connector_id,
                r.id_token,
                r.status,
                when(r.expiry),
            ]
            for r in found
        ),
    )


@stations_app.command("alerts")
def list_alerts(
    station: Annotated[str, typer.Option(help="Only this station's.")] = "",
    open_only: Annotated[bool, typer.Option("--open", help="Only alerts not cleared.")] = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Events stations reported (NotifyEvent), newest first."""
    request = pb.ListAlertsRequest(station_id=station, open_only=open_only)

    async def work(channel: grpc.aio.Channel) -> list[pb.Alert]:
        return await paged(StationsStub(channel).ListAlerts, request, "alerts", PAGE)

    found = call("stations", address, token, var_dir, work)
    if json_output:
        print_json([as_dict(a) for a in found])
        return
    table(
        f"{len(found)} alert(s)",
        ["time", "station", "variable", "value", "trigger", "type", "cleared", "tech"],
        (
            [
                when(a.occurred_at),
                a.station_id,
                a.variable,
                a.actual_value,
                a.trigger,
                a.event_notification_type,
                "yes" if a.cleared else "",
                a.tech_code,
            ]
            for a in found
        ),
    )


def _command_reply(reply: ctl.CommandReply, json_output: bool) -> None:
    if json_output:
        print_json(as_dict(reply))
    else:
        out.print(f"{reply.status}{f' ({reply.status_reason})' if reply.status_reason else ''}")


@display_app.command("set")
def set_display_message(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    message_id: Annotated[int, typer.Option("--id", help="Message id (replaces the same id).")],
    content: Annotated[str, typer.Option(help="The text (at most 512 characters).")],
    priority: Annotated[str, typer.Option(help="AlwaysFront, InFront, NormalCycle.")] = "",
    state: Annotated[str, typer.Option(help="Idle, Charging, Faulted, Unavailable.")] = "",
    language: Annotated[str, typer.Option(help="RFC 5646 language, e.g. en, de.")] = "",
    message_format: Annotated[str, typer.Option("--format", help="UTF8, ASCII, HTML, URI.")] = "",
    transaction: Annotated[str, typer.Option(help="Only during this transaction.")] = "",
    minutes: Annotated[float, typer.Option(help="Shown for this long; 0 = no end.")] = 0.0,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """SetDisplayMessage: the station's status (Accepted, Rejected, UnknownTransaction, ...)."""
    message = ctl.DisplayMessage(
        id=message_id, content=content, priority=priority, state=state, language=language,
        format=message_format, transaction_id=transaction,
    )  # fmt: skip
    if minutes > 0:
        message.end.FromDatetime(datetime.now(UTC) + timedelta(minutes=minutes))
    request = ctl.SetDisplayMessageRequest(station_id=station_id, message=message)

    async def work(channel: grpc.aio.Channel) -> ctl.CommandReply:
        reply: ctl.CommandReply = await StationControlStub(channel).SetDisplayMessage(request)
        return reply

    _command_reply(call("gateway", address, token, var_dir, work), json_output)


@display_app.command("get")
def get_display_messages(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    ids: Annotated[list[int] | None, typer.Option("--id", help="Only these ids.")] = None,
    priority: Annotated[str, typer.Option()] = "",
    state: Annotated[str, typer.Option()] = "",
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for the NotifyDisplayMessages report.")
    ] = 10.0,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """GetDisplayMessages, then the messages the station reports (NotifyDisplayMessages)."""
    request_id = new_request_id()
    request = ctl.GetDisplayMessagesRequest(
        station_id=station_id, request_id=request_id, ids=ids or [], priority=priority,
        state=state,
    )  # fmt: skip

    async def ask(channel: grpc.aio.Channel) -> ctl.CommandReply:
        reply: ctl.CommandReply = await StationControlStub(channel).GetDisplayMessages(request)
        return reply

    reply = call("gateway", address, token, var_dir, ask)

    async def collect(channel: grpc.aio.Channel) -> list[dict[str, Any]]:
        return await wait_for_report(channel, station_id, REPORT, request_id, wait)

    parts = call("stations", address, token, var_dir, collect) if reply.status == "Accepted" else []
    messages = [m for part in parts for m in part.get("messageInfo", [])]
    if json_output:
        print_json({"status": reply.status, "messages": messages})
        return
    table(
        f"{reply.status}: {len(messages)} message(s)",
        ["id", "priority", "state", "language", "content"],
        (
            [m.get("id"), m.get("priority"), m.get("state", ""),
             m.get("message", {}).get("language", ""), m.get("message", {}).get("content", "")]
            for m in messages
        ),
    )  # fmt: skip


@display_app.command("clear")
def clear_display_message(
    station_id: Annotated[str, typer.Argument(help="Station id.")],
    message_id: Annotated[int, typer.Argument(help="Message id.")],
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """ClearDisplayMessage: Accepted, or Unknown for an id the station does not hold."""
    request = ctl.ClearDisplayMessageRequest(station_id=station_id, id=message_id)

    async def work(channel: grpc.aio.Channel) -> ctl.CommandReply:
        reply: ctl.CommandReply = await StationControlStub(channel).ClearDisplayMessage(request)
        return reply

    _command_reply(call("gateway", address, token, var_dir, work), json_output)
