"""Reading the limit in force from a GetCompositeSchedule reply (what confirms a profile)."""

from __future__ import annotations

from chargegrid.api.gateway.v1 import station_control_pb2 as gw
from chargegrid.energy.gateway import composite_limit_a


def _reply(status: str, unit: str, *periods: tuple[int, float]) -> gw.GetCompositeScheduleReply:
    schedule = gw.ChargingSchedule(
        rate_unit=unit,
        periods=[gw.ChargingSchedulePeriod(start_period_s=s, limit=a) for s, a in periods],
    )
    return gw.GetCompositeScheduleReply(status=status, schedule=schedule)


def test_the_limit_in_force_is_the_first_periods() -> None:
    assert composite_limit_a(_reply("Accepted", "A", (60, 32.0), (0, 16.0))) == 16.0


def test_a_refused_empty_or_watt_schedule_confirms_nothing() -> None:
    assert composite_limit_a(_reply("Rejected", "A", (0, 16.0))) is None
    assert composite_limit_a(_reply("Accepted", "A")) is None
    assert composite_limit_a(_reply("Accepted", "W", (0, 11000.0))) is None
