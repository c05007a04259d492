"""Tariff elements and cost breakdowns to and from JSON-able dicts, for storage.

Decimals travel as strings so nothing is ever a float; times as ISO 8601.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from chargegrid.billing.domain.engine import CostBreakdown, CostLine
from chargegrid.billing.domain.tariffs import Dimension, PriceComponent, Restrictions, TariffElement

_DECIMALS = ("min_kwh", "max_kwh", "min_current_a", "max_current_a", "min_power_kw", "max_power_kw")


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def restrictions_to_dict(r: Restrictions) -> dict[str, Any]:
    data: dict[str, Any] = {name: _text(getattr(r, name)) for name in _DECIMALS}
    data.update(
        start_time=r.start_time.isoformat("minutes") if r.start_time else None,
        end_time=r.end_time.isoformat("minutes") if r.end_time else None,
        start_date=r.start_date.isoformat() if r.start_date else None,
        end_date=r.end_date.isoformat() if r.end_date else None,
        min_duration_s=r.min_duration_s,
        max_duration_s=r.max_duration_s,
        days_of_week=sorted(r.days_of_week),
    )
    return {key: value for key, value in data.items() if value not in (None, [])}


def restrictions_from_dict(data: dict[str, Any]) -> Restrictions:
    def parsed(name: str, parse: Any) -> Any:
        return parse(data[name]) if data.get(name) is not None else None

    return Restrictions(
        start_time=parsed("start_time", time.fromisoformat),
        end_time=parsed("end_time", time.fromisoformat),
        start_date=parsed("start_date", date.fromisoformat),
        end_date=parsed("end_date", date.fromisoformat),
        min_duration_s=data.get("min_duration_s"),
        max_duration_s=data.get("max_duration_s"),
        days_of_week=frozenset(data.get("days_of_week", ())),
        **{name: _decimal(data.get(name)) for name in _DECIMALS},
    )


def element_to_dict(element: TariffElement) -> dict[str, Any]:
    return {
        "components": [
            {
                "type": c.dimension.name,
                "price": str(c.price),
                "vat_percent": _text(c.vat_percent),
                "step_size": c.step_size,
            }
            for c in element.components
        ],
        "restrictions": restrictions_to_dict(element.restrictions),
    }


def element_from_dict(data: dict[str, Any]) -> TariffElement:
    components = tuple(
        PriceComponent(
            Dimension[c["type"]],
            Decimal(c["price"]),
            _decimal(c.get("vat_percent")),
            int(c.get("step_size", 0)),
        )
        for c in data["components"]
    )
    return TariffElement(components, restrictions_from_dict(data.get("restrictions", {})))


def breakdown_to_dict(cost: CostBreakdown) -> dict[str, Any]:
    return {
        "currency": cost.currency,
        "tariff_id": cost.tariff_id,
        "tariff_version": cost.tariff_version,
        "total_excl_vat": str(cost.total_excl_vat),
        "total_vat": str(cost.total_vat),
        "total_incl_vat": str(cost.total_incl_vat),
        "lines": [
            {
                "type": line.dimension.name,
                "start": line.start.isoformat(),
                "end": line.end.isoformat(),
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "amount_excl_vat": str(line.amount_excl_vat),
                "vat_percent": str(line.vat_percent),
                "amount_vat": str(line.amount_vat),
            }
            for line in cost.lines
        ],
    }


def breakdown_from_dict(data: dict[str, Any]) -> CostBreakdown:
    lines = tuple(
        CostLine(
            Dimension[line["type"]],
            datetime.fromisoformat(line["start"]),
            datetime.fromisoformat(line["end"]),
            Decimal(line["quantity"]),
            Decimal(line["unit_price"]),
            Decimal(line["amount_excl_vat"]),
            Decimal(line["vat_percent"]),
            Decimal(line["amount_vat"]),
        )
        for line in data["lines"]
    )
    return CostBreakdown(
        data["currency"],
        data["tariff_id"],
        int(data["tariff_version"]),
        lines,
        Decimal(data["total_excl_vat"]),
        Decimal(data["total_vat"]),
        Decimal(data["total_incl_vat"]),
    )
