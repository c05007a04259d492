"""A billing tariff (chargegrid.api.billing.v1.Tariff) as an OCPI 2.2.1 Tariff
(mod_tariffs.asciidoc). Prices are excl. VAT in both; billing's decimal strings become JSON
numbers, its VAT percentage each component's `vat`, its step sizes OCPI's `step_size`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chargegrid.api.billing.v1 import billing_pb2 as bp

COMPONENT = {
    bp.PRICE_COMPONENT_TYPE_ENERGY: "ENERGY",
    bp.PRICE_COMPONENT_TYPE_TIME: "TIME",
    bp.PRICE_COMPONENT_TYPE_PARKING_TIME: "PARKING_TIME",
    bp.PRICE_COMPONENT_TYPE_FLAT: "FLAT",
}
DAYS = {
    bp.DAY_OF_WEEK_MONDAY: "MONDAY",
    bp.DAY_OF_WEEK_TUESDAY: "TUESDAY",
    bp.DAY_OF_WEEK_WEDNESDAY: "WEDNESDAY",
    bp.DAY_OF_WEEK_THURSDAY: "THURSDAY",
    bp.DAY_OF_WEEK_FRIDAY: "FRIDAY",
    bp.DAY_OF_WEEK_SATURDAY: "SATURDAY",
    bp.DAY_OF_WEEK_SUNDAY: "SUNDAY",
}
#: OCPI bounds by billing's field names.
BOUNDS = {
    "min_kwh": "min_kwh",
    "max_kwh": "max_kwh",
    "min_current_a": "min_current",
    "max_current_a": "max_current",
    "min_power_kw": "min_power",
    "max_power_kw": "max_power",
}
#: Tariff ids are at most 36 characters in OCPI.
MAX_ID = 36


def _number(text: str) -> float | int:
    value = Decimal(text)
    return int(value) if value == value.to_integral_value() else float(value)


def component(c: bp.PriceComponent, vat_percent: str) -> dict[str, Any]:
    step = c.step_size or 1
    doc: dict[str, Any] = {
        "type": COMPONENT.get(c.type, "FLAT"),
        "price": _number(c.price or "0"),
        "step_size": step,
    }
    vat = c.vat_percent or vat_percent
    if vat:
        doc["vat"] = _number(vat)
    return doc


def restrictions(r: bp.TariffRestrictions) -> dict[str, Any] | None:
    doc: dict[str, Any] = {}
    for name in ("start_time", "end_time", "start_date", "end_date"):
        if getattr(r, name):
            doc[name] = getattr(r, name)
    for ours, theirs in BOUNDS.items():
        if getattr(r, ours):
            doc[theirs] = _number(getattr(r, ours))
    if r.min_duration_s:
        doc["min_duration"] = r.min_duration_s
    if r.max_duration_s:
        doc["max_duration"] = r.max_duration_s
    days = [DAYS[d] for d in r.day_of_week if d in DAYS]
    if days:
        doc["day_of_week"] = days
    return doc or None


def tariff(country_code: str, party_id: str, t: bp.Tariff) -> dict[str, Any]:
    """The OCPI Tariff of billing's newest version (last_updated added when published)."""
    elements = []
    for element in t.elements:
        item: dict[str, Any] = {
            "price_components": [component(c, t.vat_percent) for c in element.price_components]
        }
        found = restrictions(element.restrictions)
        if found:
            item["restrictions"] = found
        elements.append(item)
    doc: dict[str, Any] = {
        "country_code": country_code,
        "party_id": party_id,
        "id": t.id,
        "currency": t.currency,
        "elements": elements,
    }
    if t.display_text:
        doc["tariff_alt_text"] = [{"language": "en", "text": t.display_text[:512]}]
    if t.HasField("effective_from"):
        stamp = t.effective_from.ToDatetime()
        doc["start_date_time"] = stamp.strftime("%Y-%m-%dT%H:%M:%SZ")
    return doc
