"""A generated month of connector states (late, duplicated and resent events, both DST
changes) fed to the ingest: utilization per site, station, EVSE and network, NEVI uptime
per port with operator exclusions, the outages and the AFIR status equal the plain
computation over the same raw events, on SQLite and PostgreSQL; a restart halfway and a
full replay change nothing; bad queries are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from chargegrid.analytics import utilization, utilization_cache
from chargegrid.analytics.api import AnalyticsService
from chargegrid.analytics.models import StateStationRow, UtilizationDayRow
from chargegrid.analytics.query import query_of
from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.platform.bus.topics import STATION_EVENTS, TRANSACTION_EVENTS
from chargegrid.platform.grpc.errors import InvalidArgument, NotFound
from tests.integration.analytics.conftest import Analytics, a_query, open_analytics, stamp
from tests.integration.analytics.reference import MONTH_END, MONTH_START, SITES, STATIONS
from tests.integration.analytics.states_reference import (
    ORIGIN,
    PORTS,
    STATES_NOW,
    GeneratedStates,
    Minutes,
    generate_states,
    reference_outages,
    reference_uptime,
    reference_utilization,
    replay,
)

SHARES = ("charging", "occupied", "available", "unavailable", "faulted", "offline")
#: (scope, start, end, reason): a site's maintenance and one EVSE's grid outage.
EXCLUSIONS = [
    (
        pb.Scope(kind=pb.SCOPE_KIND_SITE, site_id="site-berlin"),
        (10, 0),
        (12, 6),
        "planned_maintenance",
    ),
    (
        pb.Scope(kind=pb.SCOPE_KIND_EVSE, station_id="CP-N1", evse_id=1),
        (20, 0),
        (21, 6),
        "grid_outage",
    ),
    (pb.Scope(kind=pb.SCOPE_KIND_STATION, station_id="CP-U1"), (3, 0), (30, 0), "grid_outage"),
]


@pytest.fixture(scope="module")
def states() -> GeneratedStates:
    return generate_states()


@pytest.fixture(scope="module")
def minutes(states: GeneratedStates) -> Minutes:
    return replay(states)


def api_of(analytics: Analytics) -> AnalyticsService:
    return AnalyticsService(analytics.sessions, 370, clock=lambda: STATES_NOW)


def _march(day: int, hour: int) -> datetime:
    return MONTH_START + timedelta(days=day - 1, hours=hour)


async def add_exclusions(api: AnalyticsService) -> list[str]:
    ids = []
    for scope, (d0, h0), (d1, h1), reason in EXCLUSIONS:
        added = await api.AddExclusion(
            pb.AddExclusionRequest(
                scope=scope, start=stamp(_march(d0, h0)), end=stamp(_march(d1, h1)), reason=reason
            ),
            None,
        )
        ids.append(added.id)
    return ids


def excluded_minutes(port: tuple[str, int]) -> set[int]:
    station, evse = port
    found: set[int] = set()
    for scope, (d0, h0), (d1, h1), _ in EXCLUSIONS:
        covers = (
            scope.site_id == STATIONS[station]
            if scope.kind == pb.SCOPE_KIND_SITE
            else scope.station_id == station and scope.evse_id in (0, evse)
        )
        if covers:
            lo = int((_march(d0, h0) - ORIGIN).total_seconds() // 60)
            hi = int((_march(d1, h1) - ORIGIN).total_seconds() // 60)
            found.update(range(lo, hi))
    return found


def assert_shares(
    got: dict[str, dict[str, float]], expected: dict[str, dict[str, float]], what: object
) -> None:
    assert got.keys() == expected.keys(), what
    for name, shares in expected.items():
        for state in SHARES:
            assert got[name][state] == pytest.approx(shares.get(state, 0.0), abs=1e-12), (
                what,
                name,
                state,
            )


async def utilization_of(
    api: AnalyticsService, grain: str, kind: int = pb.SCOPE_KIND_SITE, **scope: Any
) -> dict[str, dict[str, float]]:
    reply = await api.Utilization(
        a_query(kind, start=MONTH_START, end=MONTH_END, grain=grain, **scope), None
    )
    assert not reply.next_page_token
    return {
        b.label: {state: getattr(b, f"{state}_share") for state in SHARES} for b in reply.buckets
    }


async def assert_states_match(analytics: Analytics, minutes: Minutes) -> None:
    api = api_of(analytics)
    for site in SITES:
        ports = [p for p in PORTS if STATIONS[p[0]] == site]
        for grain in ("15m", "hour", "day", "month"):
            got = await utilization_of(api, grain, site_id=site)
            expected = reference_utilization(minutes, ports, grain, MONTH_START, MONTH_END)
            assert_shares(got, expected, (site, grain))
    assert_shares(
        await utilization_of(api, "day", pb.SCOPE_KIND_STATION, station_id="CP-B2"),
        reference_utilization(minutes, [("CP-B2", 1), ("CP-B2", 2)], "day", MONTH_START, MONTH_END),
        "station",
    )
    assert_shares(
        await utilization_of(api, "hour", pb.SCOPE_KIND_EVSE, station_id="CP-N1", evse_id=2),
        reference_utilization(minutes, [("CP-N1", 2)], "hour", MONTH_START, MONTH_END),
        "evse",
    )
    assert_shares(
        await utilization_of(api, "15m", pb.SCOPE_KIND_NETWORK),
        reference_utilization(minutes, PORTS, "15m-utc", MONTH_START, MONTH_END),
        "network 15m",
    )
    for grain in ("day", "month"):
        assert_shares(
            await utilization_of(api, grain, pb.SCOPE_KIND_NETWORK),
            reference_utilization(minutes, PORTS, grain, MONTH_START, MONTH_END),
            ("network", grain),
        )
    await assert_uptime_matches(api, minutes)
    status = await api.Status(pb.StatusRequest(scope=pb.Scope(kind=pb.SCOPE_KIND_NETWORK)), None)
    got_status = {
        (e.station_id, e.evse_id): (e.status, e.since.ToDatetime(UTC)) for e in status.evses
    }
    assert got_status == minutes.status


async def assert_uptime_matches(api: AnalyticsService, minutes: Minutes) -> None:
    start, end = MONTH_START - timedelta(days=9), MONTH_END + timedelta(days=9)
    reply = await api.Uptime(
        a_query(pb.SCOPE_KIND_NETWORK, start=start, end=end, grain="month"), None
    )
    got = {
        (p.station_id, p.evse_id, p.month): (p.uptime_percent, p.outage_minutes, p.excluded_minutes)
        for p in reply.ports
    }
    expected = {}
    for port in PORTS:
        zone = ZoneInfo(SITES[STATIONS[port[0]]])
        excluded = excluded_minutes(port)
        for month, month_end in (
            ("2026-03", datetime(2026, 4, 1, tzinfo=zone)),
            ("2026-04", datetime(2026, 5, 1, tzinfo=zone)),
        ):
            expected[(*port, month)] = reference_uptime(minutes, port, excluded, month_end)
    assert got.keys() == expected.keys()
    for key, figures in expected.items():
        assert got[key] == pytest.approx(figures, abs=1e-9), key
    april = [expected[(*p, "2026-04")] for p in PORTS]
    counted = sum(out - ex for _, out, ex in april)
    assert reply.uptime_percent == pytest.approx((525_600 * 8 - counted) / (525_600 * 8) * 100)
    assert any(ex > 0 for _, _, ex in april)
    assert any(out > 0 for _, out, _ in april)
    got_outages = sorted(
        (o.station_id, o.evse_id, o.start.ToDatetime(UTC), o.end.ToDatetime(UTC), o.cause)
        for o in reply.outages
    )
    expected_outages = sorted(
        (port[0], port[1], ORIGIN + timedelta(minutes=a), ORIGIN + timedelta(minutes=b), cause)
        for port in PORTS
        for a, b, cause in reference_outages(minutes, port)
    )
    assert got_outages == expected_outages
    assert {o.cause for o in reply.outages} == {
        "offline",
        "Faulted",
        "Unavailable",
        "no_energy_flow",
    }
    site = await api.Uptime(
        a_query(site_id="site-berlin", start=start, end=end, grain="month"), None
    )
    assert {p.station_id for p in site.ports} == {"CP-B1", "CP-B2"}


async def feed_states(analytics: Analytics, states: GeneratedStates, batch: int = 250) -> None:
    await analytics.feed(STATION_EVENTS, states.station_events, batch)
    await analytics.feed(TRANSACTION_EVENTS, states.transaction_events, batch)


async def test_utilization_uptime_and_status_equal_the_plain_computation(
    analytics: Analytics, states: GeneratedStates, minutes: Minutes
) -> None:
    await feed_states(analytics, states)
    await add_exclusions(api_of(analytics))
    await assert_states_match(analytics, minutes)


async def test_a_restart_halfway_and_a_full_replay_give_the_same_states(
    database_url: str, states: GeneratedStates, minutes: Minutes
) -> None:
    half = len(states.station_events) // 2
    first = await open_analytics(database_url)
    await first.feed(STATION_EVENTS, states.station_events[:half])
    await first.engine.dispose()
    second = await open_analytics(database_url)
    try:
        await second.feed(STATION_EVENTS, states.station_events[half:])
        await second.feed(TRANSACTION_EVENTS, states.transaction_events)
        await feed_states(second, states, batch=97)  # replay
        await add_exclusions(api_of(second))
        await assert_states_match(second, minutes)
    finally:
        await second.engine.dispose()


async def test_exclusions_are_listed_and_removed(analytics: Analytics) -> None:
    api = api_of(analytics)
    ids = await add_exclusions(api)
    listed = await api.ListExclusions(pb.ListExclusionsRequest(), None)
    assert [e.id for e in listed.exclusions] == [ids[2], ids[0], ids[1]]  # by start
    berlin = await api.ListExclusions(
        pb.ListExclusionsRequest(scope=pb.Scope(kind=pb.SCOPE_KIND_SITE, site_id="site-berlin")),
        None,
    )
    assert [(e.id, e.reason, e.scope.site_id) for e in berlin.exclusions] == [
        (ids[0], "planned_maintenance", "site-berlin")
    ]
    late = await api.ListExclusions(pb.ListExclusionsRequest(start=stamp(_march(21, 0))), None)
    assert {e.id for e in late.exclusions} == {ids[1], ids[2]}
    assert (await api.RemoveExclusion(pb.RemoveExclusionRequest(id=ids[0]), None)).removed
    with pytest.raises(NotFound):
        await api.RemoveExclusion(pb.RemoveExclusionRequest(id=ids[0]), None)
    left = await api.ListExclusions(pb.ListExclusionsRequest(), None)
    assert [e.id for e in left.exclusions] == [ids[2], ids[1]]


async def test_bad_queries_and_exclusions_are_refused(analytics: Analytics) -> None:
    api = api_of(analytics)
    month = {"start": MONTH_START, "end": MONTH_END}
    refused: dict[str, Any] = {
        "unknown scope kind 9": (api.Utilization, a_query(9, **month)),
        "before it starts": (
            api.Uptime,
            a_query(site_id="s", start=MONTH_END, end=MONTH_START, grain="month"),
        ),
        "use granularity month": (api.Uptime, a_query(site_id="s", **month, grain="day")),
        "needs station_id": (api.Status, pb.StatusRequest(scope=pb.Scope(kind=pb.SCOPE_KIND_EVSE))),
        "not the network": (
            api.AddExclusion,
            pb.AddExclusionRequest(
                scope=pb.Scope(kind=pb.SCOPE_KIND_NETWORK),
                start=stamp(MONTH_START),
                end=stamp(MONTH_END),
                reason="grid_outage",
            ),
        ),
        "unknown reason": (
            api.AddExclusion,
            pb.AddExclusionRequest(
                scope=pb.Scope(kind=pb.SCOPE_KIND_SITE, site_id="s"),
                start=stamp(MONTH_START),
                end=stamp(MONTH_END),
                reason="holiday",
            ),
        ),
        "exclusion ends": (
            api.AddExclusion,
            pb.AddExclusionRequest(
                scope=pb.Scope(kind=pb.SCOPE_KIND_SITE, site_id="s"),
                start=stamp(MONTH_END),
                end=stamp(MONTH_START),
                reason="grid_outage",
            ),
        ),
    }
    absurd = a_query(site_id="s", **month)
    absurd.granularity = 42  # type: ignore[assignment]
    refused["unknown granularity 42"] = (api.Utilization, absurd)
    for expected, (method, request) in refused.items():
        with pytest.raises(InvalidArgument) as error:
            await method(request, None)
        assert expected in str(error.value), expected


async def test_cached_days_are_recomputed_after_late_changes(
    analytics: Analytics, states: GeneratedStates, minutes: Minutes
) -> None:
    api = api_of(analytics)
    half = len(states.station_events) // 2
    await analytics.feed(STATION_EVENTS, states.station_events[:half])
    await analytics.feed(TRANSACTION_EVENTS, states.transaction_events)
    await utilization_of(api, "day", site_id="site-berlin")  # fills the cached days
    berlin = select(func.min(StateStationRow.valid_until_ms)).where(
        StateStationRow.site_id == "site-berlin"
    )
    async with analytics.sessions() as session:
        cached = await session.scalar(select(func.count()).select_from(UtilizationDayRow))
        valid = await session.scalar(berlin)
    assert cached
    assert cached > 100
    assert valid
    assert valid > int(MONTH_END.timestamp() * 1000)
    await analytics.feed(STATION_EVENTS, states.station_events[half:])  # late, into cached days
    async with analytics.sessions() as session:
        lowered = await session.scalar(berlin)
    assert lowered is not None
    assert lowered < int(MONTH_END.timestamp() * 1000)
    await add_exclusions(api)
    await assert_states_match(analytics, minutes)
    # The cached days answer on their own (no fallback) and agree with the full replay.
    for grain in (pb.GRANULARITY_DAY, pb.GRANULARITY_MONTH):
        request = a_query(pb.SCOPE_KIND_NETWORK, start=MONTH_START, end=MONTH_END)
        request.granularity = grain
        query = query_of(request, 370)
        async with analytics.sessions() as session:
            from_days = await utilization_cache.cached_seconds(
                session, query, int(STATES_NOW.timestamp() * 1000)
            )
            replay_all = await utilization.replayed(session, query, STATES_NOW)
        assert len(from_days.by_label) == len(replay_all) > 0
        for bucket in replay_all:
            seconds = from_days.by_label[bucket.label]
            assert sum(seconds.values()) == pytest.approx(bucket.known_s, rel=1e-12)
            assert from_days.first[bucket.label] // 1000 == bucket.start_s
