"""Tariffs modelled on OCPI 2.2.1: elements of price components, each under restrictions.

A tariff is versioned: every update stores a new version with its own `effective_from`, and a
session is priced with the version in force when it started. Assignments say which tariff a
site, a station, a token group or the whole network (default) uses from a given time on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import cached_property


class Dimension(enum.IntEnum):
    """What a price component charges for; values match the proto's PriceComponentType."""

    ENERGY = 1
    TIME = 2
    PARKING_TIME = 3
    FLAT = 4


class TargetKind(enum.StrEnum):
    """Assignment targets, most specific first."""

    TOKEN_GROUP = "token_group"  # noqa: S105 - a target kind, not a secret
    STATION = "station"
    SITE = "site"
    DEFAULT = "default"


#: Most specific wins: token group > station > site > default.
SPECIFICITY = (TargetKind.TOKEN_GROUP, TargetKind.STATION, TargetKind.SITE, TargetKind.DEFAULT)


@dataclass(frozen=True)
class PriceComponent:
    dimension: Dimension
    #: Excluding VAT, per kWh, per hour or per session.
    price: Decimal
    #: None = the tariff's VAT.
    vat_percent: Decimal | None = None
    #: Wh for ENERGY, seconds for TIME and PARKING_TIME; 0 = no stepping.
    step_size: int = 0


@dataclass(frozen=True)
class Restrictions:
    """When an element is active; every bound given must hold (local site time)."""

    start_time: time | None = None
    end_time: time | None = None
    start_date: date | None = None
    end_date: date | None = None
    min_kwh: Decimal | None = None
    max_kwh: Decimal | None = None
    min_current_a: Decimal | None = None
    max_current_a: Decimal | None = None
    min_power_kw: Decimal | None = None
    max_power_kw: Decimal | None = None
    min_duration_s: int | None = None
    max_duration_s: int | None = None
    #: ISO weekdays, Monday = 1; empty = every day.
    days_of_week: frozenset[int] = frozenset()


@dataclass(frozen=True)
class TariffElement:
    components: tuple[PriceComponent, ...]
    restrictions: Restrictions = field(default_factory=Restrictions)

    @cached_property
    def by_dimension(self) -> dict[Dimension, PriceComponent]:
        """The first component of each dimension (looked up once per element, not per period)."""
        found: dict[Dimension, PriceComponent] = {}
        for c in self.components:
            found.setdefault(c.dimension, c)
        return found

    def component(self, dimension: Dimension) -> PriceComponent | None:
        return self.by_dimension.get(dimension)


@dataclass(frozen=True)
class Tariff:
    id: str
    currency: str
    vat_percent: Decimal
    elements: tuple[TariffElement, ...]
    version: int = 1
    effective_from: datetime | None = None
    display_text: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class Target:
    kind: TargetKind
    #: The site, station or token group id; "" for the default.
    value: str = ""


@dataclass(frozen=True)
class Assignment:
    id: str
    tariff_id: str
    target: Target
    effective_from: datetime


@dataclass(frozen=True)
class SessionKeys:
    """What decides which assignment applies to a session."""

    station_id: str
    site_id: str = ""
    token_group: str = ""


def applicable_assignment(
    assignments: list[Assignment], keys: SessionKeys, at: datetime
) -> Assignment | None:
    """The most specific assignment in force at `at`; the newest among equally specific."""
    wanted = {
        TargetKind.TOKEN_GROUP: keys.token_group,
        TargetKind.STATION: keys.station_id,
        TargetKind.SITE: keys.site_id,
        TargetKind.DEFAULT: "",
    }
    for kind in SPECIFICITY:
        if kind != TargetKind.DEFAULT and not wanted[kind]:
            continue
        candidates = [
            a
            for a in assignments
            if a.target.kind == kind and a.target.value == wanted[kind] and a.effective_from <= at
        ]
        if candidates:
            return max(candidates, key=lambda a: a.effective_from)
    return None


def version_in_force(versions: list[Tariff], at: datetime) -> Tariff | None:
    """The version whose effective_from is the latest not after `at` (ties: higher version)."""
    started = [v for v in versions if v.effective_from is None or v.effective_from <= at]
    if not started:
        return None
    return max(
        started,
        key=lambda v: (v.effective_from.timestamp() if v.effective_from else 0.0, v.version),
    )
