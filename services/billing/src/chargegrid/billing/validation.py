"""Proto tariffs and assignments in, validated domain objects out, or INVALID_ARGUMENT.

Every field is checked before anything is stored, and the message names the field
(`elements[1].price_components[0].price: ...`), so a refused request changes nothing and
says what to fix.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from chargegrid.api.billing.v1 import billing_pb2 as pb
from chargegrid.billing.domain.tariffs import (
    Dimension,
    PriceComponent,
    Restrictions,
    Target,
    TargetKind,
    Tariff,
    TariffElement,
)
from chargegrid.platform import identifiers as ids
from chargegrid.platform import text_limits as limits
from chargegrid.platform.grpc.errors import InvalidArgument

CURRENCY = re.compile(r"[A-Z]{3}")
HH_MM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
DECIMAL = re.compile(r"\d+(\.\d+)?")
HUNDRED = Decimal(100)
MAX_DECIMAL = 40  # the stored columns
MAX_DISPLAY_TEXT = limits.DESCRIPTION
#: Elements per tariff and components per element: far beyond any real tariff, and what
#: keeps the stored JSON bounded.
MAX_ELEMENTS = 100
MAX_COMPONENTS = 10


def decimal(text: str, field: str, *, required: bool = False) -> Decimal | None:
    """A non-negative decimal string ("0.30"); empty = None unless required."""
    value = text.strip()
    if not value:
        if required:
            raise InvalidArgument(f'{field}: required (a decimal string such as "0.30")')
        return None
    if len(value) > MAX_DECIMAL:
        raise InvalidArgument(f"{field}: at most {MAX_DECIMAL} characters")
    if value.startswith("-"):
        raise InvalidArgument(f"{field}: must not be negative, got {text!r}")
    if not DECIMAL.fullmatch(value):
        raise InvalidArgument(f"{field}: not a decimal number: {text!r}")
    try:
        return Decimal(value)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already refused it
        raise InvalidArgument(f"{field}: not a decimal number: {text!r}") from exc


def percent(text: str, field: str) -> Decimal | None:
    value = decimal(text, field)
    if value is not None and value > HUNDRED:
        raise InvalidArgument(f"{field}: a percentage between 0 and 100, got {text!r}")
    return value


def _time(text: str, field: str) -> time | None:
    if not text:
        return None
    if not HH_MM.fullmatch(text):
        raise InvalidArgument(f'{field}: expected HH:MM (24 h, e.g. "18:00"), got {text!r}')
    return time.fromisoformat(text)


def _date(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidArgument(f"{field}: expected YYYY-MM-DD, got {text!r}") from exc


def _ordered(low: object, high: object, field: str, what: str) -> None:
    if low is not None and high is not None and not low < high:  # type: ignore[operator]
        raise InvalidArgument(f"{field}: min_{what} must be below max_{what}")


def _duration(value: int, field: str) -> int | None:
    if value < 0:
        raise InvalidArgument(f"{field}: must not be negative, got {value}")
    return value or None


def restrictions(r: pb.TariffRestrictions, field: str) -> Restrictions:
    start_time, end_time = (
        _time(r.start_time, f"{field}.start_time"),
        _time(r.end_time, f"{field}.end_time"),
    )
    if start_time is not None and start_time == end_time:
        raise InvalidArgument(f"{field}: start_time and end_time are equal (an empty window)")
    start_date, end_date = (
        _date(r.start_date, f"{field}.start_date"),
        _date(r.end_date, f"{field}.end_date"),
    )
    _ordered(start_date, end_date, field, "date (start_date before end_date)")
    days = set()
    for day in r.day_of_week:
        if not 1 <= day <= 7:
            raise InvalidArgument(f"{field}.day_of_week: unknown day {day}")
        days.add(int(day))
    bounds = {
        name: decimal(getattr(r, name), f"{field}.{name}")
        for name in (
            "min_kwh",
            "max_kwh",
            "min_current_a",
            "max_current_a",
            "min_power_kw",
            "max_power_kw",
        )
    }
    for what in ("kwh", "current_a", "power_kw"):
        _ordered(bounds[f"min_{what}"], bounds[f"max_{what}"], field, what)
    min_s = _duration(r.min_duration_s, f"{field}.min_duration_s")
    max_s = _duration(r.max_duration_s, f"{field}.max_duration_s")
    _ordered(min_s, max_s, field, "duration_s")
    return Restrictions(
        start_time=start_time,
        end_time=end_time,
        start_date=start_date,
        end_date=end_date,
        min_duration_s=min_s,
        max_duration_s=max_s,
        days_of_week=frozenset(days),
        **bounds,
    )


def component(c: pb.PriceComponent, field: str) -> PriceComponent:
    try:
        dimension = Dimension(c.type)
    except ValueError:
        raise InvalidArgument(
            f"{field}.type: unknown price component type {c.type} "
            "(ENERGY, TIME, PARKING_TIME or FLAT)"
        ) from None
    if c.step_size < 0:
        raise InvalidArgument(f"{field}.step_size: must not be negative, got {c.step_size}")
    price = decimal(c.price, f"{field}.price", required=True)
    assert price is not None
    vat = percent(c.vat_percent, f"{field}.vat_percent")
    step = 0 if dimension == Dimension.FLAT else c.step_size
    return PriceComponent(dimension, price, vat, step)


def tariff(
    t: pb.Tariff, *, tariff_id: str, version: int, effective_from: datetime, created_at: datetime
) -> Tariff:
    if not CURRENCY.fullmatch(t.currency):
        raise InvalidArgument(
            f"currency: an ISO 4217 code of three capital letters (e.g. EUR), got {t.currency!r}"
        )
    vat = percent(t.vat_percent, "vat_percent")
    if not t.elements:
        raise InvalidArgument("elements: a tariff needs at least one element")
    if len(t.elements) > MAX_ELEMENTS:
        raise InvalidArgument(f"elements: at most {MAX_ELEMENTS} elements")
    limits.bounded(t.display_text, "display_text", MAX_DISPLAY_TEXT)
    elements = []
    for n, e in enumerate(t.elements):
        field = f"elements[{n}]"
        if not e.price_components:
            raise InvalidArgument(f"{field}.price_components: at least one price component")
        if len(e.price_components) > MAX_COMPONENTS:
            raise InvalidArgument(f"{field}.price_components: at most {MAX_COMPONENTS}")
        components = tuple(
            component(c, f"{field}.price_components[{m}]") for m, c in enumerate(e.price_components)
        )
        elements.append(
            TariffElement(components, restrictions(e.restrictions, f"{field}.restrictions"))
        )
    return Tariff(
        id=tariff_id,
        currency=t.currency,
        vat_percent=vat if vat is not None else Decimal(0),
        elements=tuple(elements),
        version=version,
        effective_from=effective_from,
        display_text=t.display_text,
        created_at=created_at,
    )


def tariff_id(text: str, field: str = "tariff.id") -> str:
    """A record id, as OCPI 2.2.1 Tariff.id: CiString(36)."""
    return ids.RECORD_ID.check(text, field)


def session_of(station_id: str, transaction_id: str) -> str:
    """The session id of a station's transaction, both ids under their rules."""
    station = ids.STATION_ID.check(station_id, "station_id")
    return f"{station}:{ids.TRANSACTION_ID.check(transaction_id, 'transaction_id')}"


def cdr_filters(station_id: str, site_id: str) -> tuple[str, str]:
    return (
        ids.STATION_ID.check_optional(station_id, "station_id"),
        ids.SITE_ID.check_optional(site_id, "site_id"),
    )


_TARGET_RULES = {"site_id": ids.SITE_ID, "station_id": ids.STATION_ID, "token_group": ids.ID_TOKEN}


def target(t: pb.AssignmentTarget) -> Target:
    kind = t.WhichOneof("target")
    if kind is None:
        raise InvalidArgument("target: give one of site_id, station_id, token_group or default")
    if kind == "default":
        if not t.default:
            raise InvalidArgument("target.default: must be true when given")
        return Target(TargetKind.DEFAULT)
    value = getattr(t, kind)
    if not value:
        raise InvalidArgument(f"target.{kind}: must not be empty")
    _TARGET_RULES[kind].check(value, f"target.{kind}")
    mapping = {"site_id": TargetKind.SITE, "station_id": TargetKind.STATION}
    return Target(mapping.get(kind, TargetKind.TOKEN_GROUP), value)
