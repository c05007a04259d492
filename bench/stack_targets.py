"""Issue 14's targets beside the figures bench_stack measured, each with met true/false.

`met` is None when the run did not measure the figure (a section switched off, a probe
that saw nothing). "No lag growth" is read as: over the second half of the closed-loop
MeterValues load, each group's lag (sampled every second) grows by less than 5 % of the
offered rate per second, a least-squares slope, so a plateau of one batch in flight passes
and a climb does not.
"""

from __future__ import annotations

from typing import Any

GROWTH_SHARE = 0.05


def _slope(series: list[int]) -> float:
    """Least-squares slope per sample of `series` (0 for fewer than two samples)."""
    n = len(series)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(series) / n
    num = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(series))
    den = sum((x - mean_x) ** 2 for x in range(n))
    return num / den


def lag_growth_per_s(groups: dict[str, Any]) -> dict[str, float]:
    """ "group@topic" -> the slope of its lag over the second half of the load, records/s."""
    growth = {}
    for key, figures in groups.items():
        series = figures.get("lag_each_second_during_load", [])
        growth[key] = round(_slope(series[len(series) // 2 :]), 1)
    return growth


def _entry(value: Any, target: str, met: bool | None) -> dict[str, Any]:
    return {"value": value, "target": target, "met": met}


def _at_most(value: float | None, limit: float, target: str) -> dict[str, Any]:
    return _entry(value, target, None if value is None else value <= limit)


def targets(
    closed: dict[str, Any],
    plain_rate: float,
    storm: dict[str, Any] | None,
    database: str = "sqlite",
) -> dict[str, Any]:
    rate = closed["load"].get("calls_per_s", 0)
    caught = [g.get("caught_up_after_s") for g in closed["consumer_groups"].values()]
    never = [
        key for key, g in closed["consumer_groups"].items() if g.get("caught_up_after_s") is None
    ]
    growth = lag_growth_per_s(closed["consumer_groups"])
    worst_growth = max(growth.values(), default=0.0)
    ratio = round(rate / plain_rate, 2) if plain_rate else None
    found = {
        "meter_values_vs_plain_ocpp": _entry(
            ratio, ">= 2.0", None if ratio is None else ratio >= 2.0
        ),
        "consumers_idle_within_s_of_load_end": (
            _entry(f"not caught up: {', '.join(never)}", "<= 2 s, every group", False)
            if never
            else _at_most(max(caught, default=0.0), 2.0, "<= 2 s, every group")
        ),
        "lag_growth_records_per_s": _entry(
            worst_growth,
            f"< {GROWTH_SHARE:.0%} of the rate ({rate * GROWTH_SHARE:.0f}/s)",
            worst_growth < rate * GROWTH_SHARE,
        ),
        "reply_p99_ms": _entry(
            closed["load"].get("reply_p99_ms"),
            "< 50",
            closed["load"].get("reply_p99_ms", 1e9) < 50,
        ),
        "consumers_cpu_vs_gateway": _at_most(closed["consumers_cpu_vs_gateway"], 1.0, "<= 1.0"),
        "session_cpu_ms_per_meter_values_event": _at_most(
            closed["cpu_s_per_1000_calls"].get("session"), 0.15, f"<= 0.15 ({database} here)"
        ),
    }
    if storm is None:
        for name, target in (
            ("boot_storm_all_accepted_s", "<= 60"),
            ("boot_storm_errors", "0"),
            ("boot_storm_services_restarted", "0"),
            ("boot_storm_decisions_by_gateway_fallback", "0"),
        ):
            found[name] = _entry(None, target, None)
    else:
        accepted = storm.get("all_accepted_s")
        found["boot_storm_all_accepted_s"] = (
            _entry("not all Accepted", "<= 60", False)
            if accepted is None
            else _at_most(accepted, 60.0, "<= 60")
        )
        found["boot_storm_errors"] = _entry(storm["errors"], "0", storm["errors"] == 0)
        restarted = len(storm["services_restarted"])
        found["boot_storm_services_restarted"] = _entry(restarted, "0", restarted == 0)
        # Accepted by the gateway's own fallback is not the stations service's decision.
        fell_back = int(storm.get("decisions_by_gateway_fallback", {}).get("total", 0))
        found["boot_storm_decisions_by_gateway_fallback"] = _entry(fell_back, "0", fell_back == 0)
    return found
