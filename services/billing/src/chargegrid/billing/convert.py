"""Domain objects out as protos: money as 4-decimal strings, quantities as decimal strings."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.billing.v1 import billing_pb2 as pb
from chargegrid.api.transaction.v1.events_pb2 import IdToken
from chargegrid.billing.domain.cdr import Cdr
from chargegrid.billing.domain.engine import CostBreakdown
from chargegrid.billing.domain.money import money_text, quantity_text
from chargegrid.billing.domain.tariffs import (
    Assignment,
    PriceComponent,
    Restrictions,
    Target,
    TargetKind,
    Tariff,
)
from chargegrid.platform.bus.envelope import set_timestamp

KWH = Decimal(1000)


def stamp(when: datetime | None) -> Timestamp:
    result = Timestamp()
    if when is not None:
        set_timestamp(result, when)
    return result


def from_stamp(value: Timestamp) -> datetime | None:
    if not value.seconds and not value.nanos:
        return None
    return value.ToDatetime(tzinfo=UTC)


def _plain(value: Decimal | None) -> str:
    return "" if value is None else f"{value:f}"


def restrictions_proto(r: Restrictions) -> pb.TariffRestrictions:
    return pb.TariffRestrictions(
        start_time=r.start_time.isoformat("minutes") if r.start_time else "",
        end_time=r.end_time.isoformat("minutes") if r.end_time else "",
        start_date=r.start_date.isoformat() if r.start_date else "",
        end_date=r.end_date.isoformat() if r.end_date else "",
        min_kwh=_plain(r.min_kwh),
        max_kwh=_plain(r.max_kwh),
        min_current_a=_plain(r.min_current_a),
        max_current_a=_plain(r.max_current_a),
        min_power_kw=_plain(r.min_power_kw),
        max_power_kw=_plain(r.max_power_kw),
        min_duration_s=r.min_duration_s or 0,
        max_duration_s=r.max_duration_s or 0,
        day_of_week=sorted(r.days_of_week),  # type: ignore[arg-type]
    )


def component_proto(c: PriceComponent) -> pb.PriceComponent:
    return pb.PriceComponent(
        type=int(c.dimension),  # type: ignore[arg-type]
        price=_plain(c.price),
        vat_percent=_plain(c.vat_percent),
        step_size=c.step_size,
    )


def tariff_proto(t: Tariff) -> pb.Tariff:
    return pb.Tariff(
        id=t.id,
        currency=t.currency,
        vat_percent=_plain(t.vat_percent),
        elements=[
            pb.TariffElement(
                price_components=[component_proto(c) for c in e.components],
                restrictions=restrictions_proto(e.restrictions),
            )
            for e in t.elements
        ],
        version=t.version,
        effective_from=stamp(t.effective_from),
        display_text=t.display_text,
        created_at=stamp(t.created_at),
    )


def target_proto(target: Target) -> pb.AssignmentTarget:
    if target.kind == TargetKind.DEFAULT:
        return pb.AssignmentTarget(default=True)
    if target.kind == TargetKind.SITE:
        return pb.AssignmentTarget(site_id=target.value)
    if target.kind == TargetKind.STATION:
        return pb.AssignmentTarget(station_id=target.value)
    return pb.AssignmentTarget(token_group=target.value)


def assignment_proto(a: Assignment) -> pb.TariffAssignment:
    return pb.TariffAssignment(
        id=a.id,
        tariff_id=a.tariff_id,
        target=target_proto(a.target),
        effective_from=stamp(a.effective_from),
    )


def breakdown_proto(cost: CostBreakdown) -> pb.CostBreakdown:
    return pb.CostBreakdown(
        currency=cost.currency,
        tariff_id=cost.tariff_id,
        tariff_version=cost.tariff_version,
        lines=[
            pb.CostLine(
                type=int(line.dimension),  # type: ignore[arg-type]
                start=stamp(line.start),
                end=stamp(line.end),
                quantity=quantity_text(line.quantity),
                unit_price=_plain(line.unit_price),
                amount_excl_vat=money_text(line.amount_excl_vat),
                vat_percent=_plain(line.vat_percent),
                amount_vat=money_text(line.amount_vat),
            )
            for line in cost.lines
        ],
        total_excl_vat=money_text(cost.total_excl_vat),
        total_vat=money_text(cost.total_vat),
        total_incl_vat=money_text(cost.total_incl_vat),
    )


def cdr_proto(cdr: Cdr) -> pb.Cdr:
    return pb.Cdr(
        id=cdr.id,
        session_id=cdr.session_id,
        station_id=cdr.station_id,
        site_id=cdr.site_id,
        id_token=IdToken(id=cdr.id_token, type=cdr.id_token_type),
        started_at=stamp(cdr.started_at),
        ended_at=stamp(cdr.ended_at),
        energy_kwh=quantity_text(cdr.energy_wh / KWH),
        total_time_s=cdr.total_time_s,
        charging_time_s=cdr.charging_time_s,
        parking_time_s=cdr.parking_time_s,
        cost=breakdown_proto(cdr.cost),
        timezone=cdr.timezone,
        created_at=stamp(cdr.created_at),
    )
