"""Test-data builders for tariffs and timelines (`a_tariff(...)`, `constant_power(...)`)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from chargegrid.billing.domain.tariffs import (
    Dimension,
    PriceComponent,
    Restrictions,
    Tariff,
    TariffElement,
)
from chargegrid.billing.domain.timeline import UsagePoint

BERLIN = ZoneInfo("Europe/Berlin")


def energy(price: str, step: int = 0, vat: str | None = None) -> PriceComponent:
    return PriceComponent(Dimension.ENERGY, Decimal(price), Decimal(vat) if vat else None, step)


def charging_time(price: str, step: int = 0) -> PriceComponent:
    return PriceComponent(Dimension.TIME, Decimal(price), None, step)


def parking(price: str, step: int = 0) -> PriceComponent:
    return PriceComponent(Dimension.PARKING_TIME, Decimal(price), None, step)


def flat(price: str) -> PriceComponent:
    return PriceComponent(Dimension.FLAT, Decimal(price))


def element(*components: PriceComponent, **restrictions: object) -> TariffElement:
    return TariffElement(tuple(components), Restrictions(**restrictions))  # type: ignore[arg-type]


def between(start: str, end: str) -> dict[str, time]:
    return {"start_time": time.fromisoformat(start), "end_time": time.fromisoformat(end)}


def a_tariff(*elements: TariffElement, vat: str = "0", currency: str = "EUR") -> Tariff:
    return Tariff(
        id="T1",
        currency=currency,
        vat_percent=Decimal(vat),
        elements=elements,
        effective_from=datetime(2020, 1, 1, tzinfo=UTC),
    )


def local(text: str, tz: ZoneInfo = BERLIN) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tz).astimezone(UTC)


def constant_power(start: datetime, duration: timedelta, kwh: str) -> list[UsagePoint]:
    """Charging at constant power the whole time: only a start and an end point."""
    return [
        UsagePoint(start, Decimal(0), True),
        UsagePoint(start + duration, Decimal(kwh) * 1000, False),
    ]
