"""`chargegrid tariffs ...` and `chargegrid cdrs ...`: prices and charge detail records.

A tariff comes from a JSON file in the proto's JSON shape (`Tariff`, field names as in the
proto) and/or simple flags for the common one-element tariff (`--energy 0.30 --time 2.00
--currency EUR --vat 19`); the service validates it and says what is wrong.
"""

from __future__ import annotations

import csv
import io
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import grpc
import typer
from google.protobuf.json_format import Parse, ParseError
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.billing.v1 import billing_pb2 as pb
from chargegrid.api.billing.v1.billing_pb2_grpc import BillingStub
from chargegrid.cli.api import AddressOption, JsonOption, TokenOption, VarDirOption, call, paged
from chargegrid.cli.output import as_dict, enum_label, fields, print_json, table

if TYPE_CHECKING:
    from chargegrid.api.billing.v1.billing_pb2_grpc import BillingAsyncStub

tariffs_app = typer.Typer(help="Tariffs (OCPI-style): add, list, show, assign.")
cdrs_app = typer.Typer(help="Charge detail records: list, show, export as CSV.")

PAGE = 1000
CSV_COLUMNS = [
    "cdr_id",
    "session_id",
    "station_id",
    "site_id",
    "id_token",
    "started_at",
    "ended_at",
    "timezone",
    "energy_kwh",
    "charging_time_s",
    "parking_time_s",
    "currency",
    "tariff_id",
    "tariff_version",
    "total_excl_vat",
    "total_vat",
    "total_incl_vat",
]


def _stub(channel: grpc.aio.Channel) -> BillingAsyncStub:
    return BillingStub(channel)


def when(stamp: Timestamp) -> str:
    return stamp.ToJsonString() if stamp.seconds or stamp.nanos else ""


def component_label(value: int) -> str:
    return enum_label(pb.PriceComponentType.Name(value), "PRICE_COMPONENT_TYPE_")  # type: ignore[arg-type]


def timestamp(text: str, option: str) -> Timestamp:
    """An ISO 8601 time ("2026-01-01T00:00:00+01:00"; no offset = UTC)."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter("an ISO 8601 time", param_hint=option) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    stamp = Timestamp()
    stamp.FromDatetime(parsed)
    return stamp


def tariff_from(
    file: Path | None,
    *,
    tariff_id: str | None = None,
    energy: str | None = None,
    time: str | None = None,
    parking: str | None = None,
    flat: str | None = None,
    currency: str | None = None,
    vat: str | None = None,
    display_text: str | None = None,
) -> pb.Tariff:
    """The tariff a file and flags describe; flags add one element and override fields."""
    tariff = pb.Tariff()
    if file is not None:
        try:
            text = sys.stdin.read() if str(file) == "-" else file.read_text()
            Parse(text, tariff)
        except (OSError, ParseError) as exc:
            raise typer.BadParameter(f"cannot read a tariff from {file}: {exc}") from None
    components = [
        pb.PriceComponent(type=kind, price=price)
        for kind, price in (
            (pb.PRICE_COMPONENT_TYPE_ENERGY, energy),
            (pb.PRICE_COMPONENT_TYPE_TIME, time),
            (pb.PRICE_COMPONENT_TYPE_PARKING_TIME, parking),
            (pb.PRICE_COMPONENT_TYPE_FLAT, flat),
        )
        if price is not None
    ]
    if components:
        tariff.elements.append(pb.TariffElement(price_components=components))
    for name, value in (
        ("id", tariff_id),
        ("currency", currency),
        ("vat_percent", vat),
        ("display_text", display_text),
    ):
        if value is not None:
            setattr(tariff, name, value)
    if not tariff.elements:
        raise typer.BadParameter(
            "give a JSON file or at least one of --energy/--time/--parking/--flat"
        )
    return tariff


def target_from(
    site: str | None, station: str | None, group: str | None, default: bool
) -> pb.AssignmentTarget:
    given = [x for x in (site, station, group) if x] + (["default"] if default else [])
    if len(given) != 1:
        raise typer.BadParameter("exactly one of --site, --station, --group or --default")
    if site:
        return pb.AssignmentTarget(site_id=site)
    if station:
        return pb.AssignmentTarget(station_id=station)
    if group:
        return pb.AssignmentTarget(token_group=group)
    return pb.AssignmentTarget(default=True)


def target_label(target: pb.AssignmentTarget) -> str:
    kind = target.WhichOneof("target")
    if kind is None or kind == "default":
        return "default"
    return f"{kind.removesuffix('_id')} {getattr(target, kind)}"


def price_summary(tariff: pb.Tariff) -> str:
    parts = []
    for element in tariff.elements:
        prices = ", ".join(f"{component_label(c.type)} {c.price}" for c in element.price_components)
        r = element.restrictions
        window = f" [{r.start_time}-{r.end_time}]" if r.start_time or r.end_time else ""
        parts.append(prices + window)
    return "; ".join(parts)


@tariffs_app.command("add")
def add_tariff(
    file: Annotated[
        Path | None, typer.Argument(help="Tariff JSON (proto shape), or - for stdin.")
    ] = None,
    tariff_id: Annotated[str | None, typer.Option("--id", help="Tariff id.")] = None,
    energy: Annotated[str | None, typer.Option(help="Price per kWh.")] = None,
    time: Annotated[str | None, typer.Option(help="Price per hour charging.")] = None,
    parking: Annotated[str | None, typer.Option(help="Price per hour parked.")] = None,
    flat: Annotated[str | None, typer.Option(help="Price per session.")] = None,
    currency: Annotated[str | None, typer.Option(help="ISO 4217 code, e.g. EUR.")] = None,
    vat: Annotated[str | None, typer.Option(help="VAT percentage.")] = None,
    display_text: Annotated[str | None, typer.Option(help="Text shown to drivers.")] = None,
    update: Annotated[
        bool, typer.Option(help="Store a new version of an existing tariff.")
    ] = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Create a tariff (or, with --update, a new version of one)."""
    tariff = tariff_from(
        file,
        tariff_id=tariff_id,
        energy=energy,
        time=time,
        parking=parking,
        flat=flat,
        currency=currency,
        vat=vat,
        display_text=display_text,
    )

    async def store(channel: grpc.aio.Channel) -> pb.Tariff:
        stub = _stub(channel)
        if update:
            return await stub.UpdateTariff(pb.UpdateTariffRequest(tariff=tariff))
        return await stub.CreateTariff(pb.CreateTariffRequest(tariff=tariff))

    stored = call("billing", address, token, var_dir, store)
    if json_output:
        print_json(as_dict(stored))
        return
    show(stored)


@tariffs_app.command("list")
def list_tariffs(
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Every tariff, newest version each."""

    async def fetch(channel: grpc.aio.Channel) -> list[pb.Tariff]:
        return await paged(_stub(channel).ListTariffs, pb.ListTariffsRequest(), "tariffs", PAGE)

    tariffs = call("billing", address, token, var_dir, fetch)
    if json_output:
        print_json([as_dict(t) for t in tariffs])
        return
    table(
        f"{len(tariffs)} tariff(s)",
        ["id", "version", "currency", "vat %", "effective from", "prices"],
        (
            [t.id, t.version, t.currency, t.vat_percent, when(t.effective_from), price_summary(t)]
            for t in tariffs
        ),
    )


def show(tariff: pb.Tariff) -> None:
    fields(
        f"tariff {tariff.id} v{tariff.version}",
        [
            ("currency", tariff.currency),
            ("vat %", tariff.vat_percent),
            ("effective from", when(tariff.effective_from)),
            ("prices", price_summary(tariff)),
            ("display text", tariff.display_text),
        ],
    )


@tariffs_app.command("show")
def show_tariff(
    tariff_id: Annotated[str, typer.Argument(help="Tariff id.")],
    version: Annotated[int, typer.Option(help="0 = the newest.")] = 0,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """One tariff version with its elements."""

    async def fetch(channel: grpc.aio.Channel) -> tuple[pb.Tariff, pb.ListAssignmentsReply]:
        stub = _stub(channel)
        tariff = await stub.GetTariff(pb.GetTariffRequest(tariff_id=tariff_id, version=version))
        assigned = await stub.ListAssignments(pb.ListAssignmentsRequest(tariff_id=tariff_id))
        return tariff, assigned

    tariff, assigned = call("billing", address, token, var_dir, fetch)
    if json_output:
        print_json({**as_dict(tariff), "assignments": as_dict(assigned).get("assignments", [])})
        return
    show(tariff)
    table(
        "assignments",
        ["id", "target", "effective from"],
        ([a.id, target_label(a.target), when(a.effective_from)] for a in assigned.assignments),
    )


@tariffs_app.command("assign")
def assign_tariff(
    tariff_id: Annotated[str, typer.Argument(help="Tariff id.")],
    site: Annotated[str | None, typer.Option(help="For this site.")] = None,
    station: Annotated[str | None, typer.Option(help="For this station.")] = None,
    group: Annotated[str | None, typer.Option(help="For this token group.")] = None,
    default: Annotated[bool, typer.Option("--default", help="The network default.")] = False,
    since: Annotated[str | None, typer.Option("--from", help="ISO 8601 start (now).")] = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """Assign a tariff to a site, station, token group or the whole network."""
    request = pb.AssignTariffRequest(
        tariff_id=tariff_id, target=target_from(site, station, group, default)
    )
    if since:
        request.effective_from.CopyFrom(timestamp(since, "--from"))

    async def assign(channel: grpc.aio.Channel) -> pb.TariffAssignment:
        return await _stub(channel).AssignTariff(request)

    made = call("billing", address, token, var_dir, assign)
    if json_output:
        print_json(as_dict(made))
        return
    fields(
        f"assignment {made.id}",
        [
            ("tariff", made.tariff_id),
            ("target", target_label(made.target)),
            ("effective from", when(made.effective_from)),
        ],
    )


def cdr_request(
    station: str | None,
    site: str | None,
    id_token: str | None,
    since: str | None,
    until: str | None,
) -> pb.ListCdrsRequest:
    request = pb.ListCdrsRequest(
        station_id=station or "", site_id=site or "", id_token=id_token or ""
    )
    if since:
        request.since.CopyFrom(timestamp(since, "--since"))
    if until:
        request.until.CopyFrom(timestamp(until, "--until"))
    return request


def fetch_cdrs(
    request: pb.ListCdrsRequest, address: str | None, token: str | None, var_dir: Path
) -> list[pb.Cdr]:
    async def fetch(channel: grpc.aio.Channel) -> list[pb.Cdr]:
        return await paged(_stub(channel).ListCdrs, request, "cdrs", PAGE)

    return call("billing", address, token, var_dir, fetch)


def csv_row(cdr: pb.Cdr) -> list[str]:
    return [
        cdr.id,
        cdr.session_id,
        cdr.station_id,
        cdr.site_id,
        cdr.id_token.id,
        when(cdr.started_at),
        when(cdr.ended_at),
        cdr.timezone,
        cdr.energy_kwh,
        str(cdr.charging_time_s),
        str(cdr.parking_time_s),
        cdr.cost.currency,
        cdr.cost.tariff_id,
        str(cdr.cost.tariff_version),
        cdr.cost.total_excl_vat,
        cdr.cost.total_vat,
        cdr.cost.total_incl_vat,
    ]


def to_csv(cdrs: list[pb.Cdr]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(c) for c in cdrs)
    return buffer.getvalue()


StationFilter = Annotated[str | None, typer.Option("--station", help="Only this station.")]
SiteFilter = Annotated[str | None, typer.Option("--site", help="Only this site.")]
TokenFilter = Annotated[str | None, typer.Option("--id-token", help="Only this id token.")]
SinceFilter = Annotated[str | None, typer.Option(help="Sessions started at or after (ISO).")]
UntilFilter = Annotated[str | None, typer.Option(help="Sessions started before (ISO).")]


@cdrs_app.command("list")
def list_cdrs(
    station: StationFilter = None,
    site: SiteFilter = None,
    id_token: TokenFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """CDRs matching the filters (all pages)."""
    cdrs = fetch_cdrs(cdr_request(station, site, id_token, since, until), address, token, var_dir)
    if json_output:
        print_json([as_dict(c) for c in cdrs])
        return
    table(
        f"{len(cdrs)} CDR(s)",
        ["id", "session", "station", "started", "kWh", "total", "currency"],
        (
            [
                c.id,
                c.session_id,
                c.station_id,
                when(c.started_at),
                c.energy_kwh,
                c.cost.total_incl_vat,
                c.cost.currency,
            ]
            for c in cdrs
        ),
    )


@cdrs_app.command("show")
def show_cdr(
    cdr_id: Annotated[str, typer.Argument(help="CDR id (or a session id with --session).")],
    by_session: Annotated[
        bool, typer.Option("--session", help="The argument is a session id.")
    ] = False,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """One CDR with its cost lines."""
    request = pb.GetCdrRequest(session_id=cdr_id) if by_session else pb.GetCdrRequest(cdr_id=cdr_id)

    async def fetch(channel: grpc.aio.Channel) -> pb.Cdr:
        return await _stub(channel).GetCdr(request)

    cdr = call("billing", address, token, var_dir, fetch)
    if json_output:
        print_json(as_dict(cdr))
        return
    fields(
        f"CDR {cdr.id}",
        [
            ("session", cdr.session_id),
            ("station / site", f"{cdr.station_id} / {cdr.site_id}"),
            ("id token", cdr.id_token.id),
            ("started / ended", f"{when(cdr.started_at)} / {when(cdr.ended_at)}"),
            ("time zone", cdr.timezone),
            ("energy", f"{cdr.energy_kwh} kWh"),
            ("charging / parking", f"{cdr.charging_time_s} s / {cdr.parking_time_s} s"),
            ("tariff", f"{cdr.cost.tariff_id} v{cdr.cost.tariff_version}"),
            ("total excl. VAT", f"{cdr.cost.total_excl_vat} {cdr.cost.currency}"),
            ("VAT", cdr.cost.total_vat),
            ("total incl. VAT", cdr.cost.total_incl_vat),
        ],
    )
    table(
        "cost lines",
        ["type", "start", "end", "quantity", "unit price", "excl. VAT", "VAT %", "VAT"],
        (
            [
                component_label(line.type),
                when(line.start),
                when(line.end),
                line.quantity,
                line.unit_price,
                line.amount_excl_vat,
                line.vat_percent,
                line.amount_vat,
            ]
            for line in cdr.cost.lines
        ),
    )


@cdrs_app.command("export")
def export_cdrs(
    file: Annotated[str, typer.Argument(help="CSV file to write, or - for stdout.")] = "-",
    station: StationFilter = None,
    site: SiteFilter = None,
    id_token: TokenFilter = None,
    since: SinceFilter = None,
    until: UntilFilter = None,
    json_output: JsonOption = False,
    address: AddressOption = None,
    token: TokenOption = None,
    var_dir: VarDirOption = Path("var"),
) -> None:
    """CDRs matching the filters as CSV (one row per CDR, totals as decimal strings)."""
    cdrs = fetch_cdrs(cdr_request(station, site, id_token, since, until), address, token, var_dir)
    text = to_csv(cdrs)
    if file == "-":
        sys.stdout.write(text)
    else:
        Path(file).write_text(text)
    if json_output and file != "-":
        print_json({"file": file, "cdrs": len(cdrs)})
