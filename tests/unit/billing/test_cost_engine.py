"""The cost engine against hand-computed sessions (amounts in EUR, excl. VAT unless said)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from chargegrid.billing.domain.engine import price
from chargegrid.billing.domain.tariffs import Dimension
from chargegrid.billing.domain.timeline import UsagePoint
from tests.unit.billing.builders import (
    BERLIN,
    a_tariff,
    between,
    charging_time,
    constant_power,
    element,
    energy,
    flat,
    local,
    parking,
)

UTC_ZONE = ZoneInfo("UTC")
NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def amounts(breakdown: object) -> list[tuple[Dimension, str, str]]:
    return [
        (line.dimension, f"{line.quantity.normalize():f}", f"{line.amount_excl_vat.normalize():f}")
        for line in breakdown.lines  # type: ignore[attr-defined]
    ]


def test_energy_only_rounds_vat_at_the_total_only() -> None:
    tariff = a_tariff(element(energy("0.30")), vat="19")
    cost = price(tariff, constant_power(NOON, timedelta(hours=1), "11.5"), UTC_ZONE)
    assert amounts(cost) == [(Dimension.ENERGY, "11.5", "3.45")]
    assert cost.lines[0].amount_vat == Decimal("0.6555")
    assert cost.total_excl_vat == Decimal("3.45")
    assert cost.total_incl_vat == Decimal("4.11")  # 4.1055 rounded half-up once
    assert cost.total_vat == Decimal("0.66")


def test_step_sizes_round_energy_to_whole_kwh_and_time_to_quarter_hours() -> None:
    tariff = a_tariff(element(energy("0.25", step=1000), charging_time("2.00", step=900)))
    cost = price(tariff, constant_power(NOON, timedelta(hours=1, minutes=20), "20.3"), UTC_ZONE)
    assert amounts(cost) == [(Dimension.ENERGY, "21", "5.25"), (Dimension.TIME, "1.5", "3")]
    assert cost.total_excl_vat == Decimal("8.25")


def test_evening_price_starts_at_six_pm_berlin_time() -> None:
    tariff = a_tariff(
        element(energy("0.20"), **between("00:00", "18:00")),
        element(energy("0.40"), **between("18:00", "00:00")),
    )
    start = local("2026-01-15T17:30")
    cost = price(tariff, constant_power(start, timedelta(hours=1), "22"), BERLIN)
    assert amounts(cost) == [(Dimension.ENERGY, "11", "2.2"), (Dimension.ENERGY, "11", "4.4")]
    assert cost.lines[0].end == local("2026-01-15T18:00")
    assert cost.total_excl_vat == Decimal("6.60")


def test_evening_price_follows_summer_time_too() -> None:
    tariff = a_tariff(
        element(energy("0.20"), **between("00:00", "18:00")),
        element(energy("0.40"), **between("18:00", "00:00")),
    )
    start = local("2026-07-15T17:30")
    cost = price(tariff, constant_power(start, timedelta(hours=1), "22"), BERLIN)
    assert cost.lines[0].end == datetime(2026, 7, 15, 16, 0, tzinfo=UTC)
    assert cost.total_excl_vat == Decimal("6.60")


def test_energy_step_applies_to_the_session_total_on_the_last_period() -> None:
    tariff = a_tariff(
        element(energy("0.20", step=1000), **between("00:00", "18:00")),
        element(energy("0.40", step=1000), **between("18:00", "00:00")),
    )
    start = local("2026-01-15T17:30")
    cost = price(tariff, constant_power(start, timedelta(hours=1), "21.5"), BERLIN)
    assert amounts(cost) == [
        (Dimension.ENERGY, "10.75", "2.15"),
        (Dimension.ENERGY, "11.25", "4.5"),
    ]
    assert cost.total_excl_vat == Decimal("6.65")


def test_flat_fee_and_parking_after_charging_stopped() -> None:
    tariff = a_tariff(element(flat("1.00"), parking("6.00", step=60)))
    start = local("2026-01-15T17:00")
    timeline = [
        UsagePoint(start, Decimal(0), True),
        UsagePoint(start + timedelta(minutes=35), Decimal(7000), False),
        UsagePoint(start + timedelta(minutes=60), Decimal(7000), False),
    ]
    cost = price(tariff, timeline, BERLIN)
    assert [line.dimension for line in cost.lines] == [Dimension.FLAT, Dimension.PARKING_TIME]
    assert cost.lines[1].start == start + timedelta(minutes=35)
    assert cost.total_excl_vat == Decimal("3.50")  # 1.00 + 25 min x 6.00/h


def test_parking_is_billed_in_whole_minutes() -> None:
    tariff = a_tariff(element(flat("1.00"), parking("6.00", step=60)))
    start = local("2026-01-15T17:00")
    timeline = [
        UsagePoint(start, Decimal(0), True),
        UsagePoint(start + timedelta(minutes=35), Decimal(7000), False),
        UsagePoint(start + timedelta(minutes=60, seconds=10), Decimal(7000), False),
    ]
    assert price(tariff, timeline, BERLIN).total_excl_vat == Decimal("3.60")  # 26 min


def test_weekend_price_starts_at_midnight_of_a_session_crossing_it() -> None:
    tariff = a_tariff(element(energy("0.30"), days_of_week=frozenset({6})), element(energy("0.40")))
    # Friday 23:00 to Saturday 01:00 at 11 kW.
    start = local("2026-01-16T23:00")
    cost = price(tariff, constant_power(start, timedelta(hours=2), "22"), BERLIN)
    assert amounts(cost) == [(Dimension.ENERGY, "11", "4.4"), (Dimension.ENERGY, "11", "3.3")]
    assert cost.lines[1].start == local("2026-01-17T00:00")
    assert cost.total_excl_vat == Decimal("7.70")


def test_night_window_wraps_past_midnight() -> None:
    tariff = a_tariff(element(energy("0.10"), **between("22:00", "06:00")), element(energy("0.50")))
    start = local("2026-01-15T21:00")
    cost = price(tariff, constant_power(start, timedelta(hours=10), "10"), BERLIN)
    # 1 h day, 8 h night, 1 h day: 1 kWh each hour.
    assert amounts(cost) == [
        (Dimension.ENERGY, "1", "0.5"),
        (Dimension.ENERGY, "8", "0.8"),
        (Dimension.ENERGY, "1", "0.5"),
    ]


def test_spring_forward_night_bills_the_hour_that_really_passed() -> None:
    tariff = a_tariff(
        element(charging_time("2.00"), **between("00:00", "03:00")),
        element(charging_time("4.00"), **between("03:00", "00:00")),
    )
    # 01:30 CET to 03:30 CEST on 29 March 2026 is one real hour; 02:00 CET = 03:00 CEST.
    start = local("2026-03-29T01:30")
    end = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert end - start == timedelta(hours=1)
    cost = price(tariff, constant_power(start, end - start, "5"), BERLIN)
    assert amounts(cost) == [(Dimension.TIME, "0.5", "1"), (Dimension.TIME, "0.5", "2")]
    assert cost.total_excl_vat == Decimal("3.00")


def test_fall_back_night_bills_three_real_hours_between_one_thirty_and_three_thirty() -> None:
    tariff = a_tariff(element(charging_time("1.00")))
    start = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # 01:30 CEST
    end = datetime(2026, 10, 25, 2, 30, tzinfo=UTC)  # 03:30 CET
    cost = price(tariff, constant_power(start, end - start, "5"), BERLIN)
    assert cost.total_excl_vat == Decimal("3.00")


def test_price_changes_once_the_session_passed_ten_kwh() -> None:
    tariff = a_tariff(element(energy("0.20"), max_kwh=Decimal(10)), element(energy("0.30")))
    cost = price(tariff, constant_power(NOON, timedelta(hours=1), "22"), UTC_ZONE)
    assert amounts(cost) == [(Dimension.ENERGY, "10", "2"), (Dimension.ENERGY, "12", "3.6")]


def test_first_hour_of_charging_time_is_free() -> None:
    tariff = a_tariff(
        element(charging_time("0.00"), max_duration_s=3600), element(charging_time("3.00"))
    )
    cost = price(tariff, constant_power(NOON, timedelta(hours=3), "30"), UTC_ZONE)
    assert cost.total_excl_vat == Decimal("6.00")


def test_each_dimension_takes_the_first_element_that_prices_it() -> None:
    tariff = a_tariff(
        element(energy("0.10"), **between("00:00", "06:00")),
        element(energy("0.40"), charging_time("1.00")),
    )
    start = local("2026-01-15T05:00")
    cost = price(tariff, constant_power(start, timedelta(hours=2), "20"), BERLIN)
    assert amounts(cost) == [
        (Dimension.ENERGY, "10", "1"),
        (Dimension.TIME, "2", "2"),
        (Dimension.ENERGY, "10", "4"),
    ]


def test_fast_charging_costs_more_above_fifty_kw() -> None:
    tariff = a_tariff(element(energy("0.59"), min_power_kw=Decimal(50)), element(energy("0.39")))
    start = NOON
    timeline = [
        UsagePoint(start, Decimal(0), True),
        UsagePoint(start + timedelta(minutes=30), Decimal(40000), True),  # 80 kW
        UsagePoint(start + timedelta(minutes=60), Decimal(50000), False),  # 20 kW
    ]
    cost = price(tariff, timeline, UTC_ZONE)
    assert amounts(cost) == [(Dimension.ENERGY, "40", "23.6"), (Dimension.ENERGY, "10", "3.9")]


def test_a_tariff_with_nothing_active_costs_nothing() -> None:
    tariff = a_tariff(element(energy("0.30"), **between("01:00", "02:00")))
    cost = price(tariff, constant_power(NOON, timedelta(hours=1), "10"), UTC_ZONE)
    assert cost.lines == ()
    assert cost.total_incl_vat == Decimal("0.00")


def test_yen_totals_have_no_decimals() -> None:
    tariff = a_tariff(element(energy("45.5")), currency="JPY", vat="10")
    cost = price(tariff, constant_power(NOON, timedelta(hours=1), "3"), UTC_ZONE)
    assert cost.total_excl_vat == Decimal("137")  # 136.5 half-up
    assert cost.total_incl_vat == Decimal("150")  # 150.15
