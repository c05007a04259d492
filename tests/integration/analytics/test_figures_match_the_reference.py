"""A generated month (late, duplicated and resent events, two DST changes) fed to the ingest:
every figure equals the plain computation over the same raw events, on SQLite and PostgreSQL,
and a restart halfway plus a full replay change nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.platform.bus.topics import BILLING_EVENTS, SESSION_EVENTS, TRANSACTION_EVENTS
from tests.integration.analytics.conftest import Analytics, a_query, open_analytics
from tests.integration.analytics.reference import (
    MONTH_END,
    MONTH_START,
    SITES,
    Generated,
    generate,
    reference_energy,
    reference_groups,
    reference_peaks,
    reference_revenue,
    reference_session_stats,
    reference_users,
    reference_windows,
)

# A little wider than the month: the last sessions run past midnight UTC.
START, END = MONTH_START.replace(day=1, month=2), MONTH_END.replace(month=5)


@pytest.fixture(scope="module")
def month() -> Generated:
    return generate()


async def energy_of(analytics: Any, site: str, grain: str) -> dict[str, float]:
    reply = await analytics.api.Energy(
        a_query(site_id=site, start=START, end=END, grain=grain), None
    )
    assert not reply.next_page_token
    return {b.label: b.energy_wh for b in reply.buckets}


async def assert_every_figure_matches(analytics: Any, month: Generated) -> None:
    windows = reference_windows(month.transaction_events)
    for site in SITES:
        for grain in ("15m", "hour", "day", "month"):
            expected = reference_energy(windows, site, grain)
            # A late reading that shows the energy flowed earlier moves it out of windows,
            # which stay with 0 Wh; the plain computation never makes them.
            got = {
                key: wh
                for key, wh in (await energy_of(analytics, site, grain)).items()
                if key in expected or abs(wh) > 1e-6
            }
            assert got.keys() == expected.keys(), (site, grain)
            for key, wh in expected.items():
                assert got[key] == pytest.approx(wh, rel=1e-9, abs=1e-6), (site, grain, key)
    for grain in ("day", "month"):
        reply = await analytics.api.Peaks(
            a_query(pb.SCOPE_KIND_NETWORK, start=START, end=END, grain=grain), None
        )
        got_peaks = {
            (p.site_id, p.label): p.peak_power_w for p in reply.peaks if p.site_id in SITES
        }
        expected_peaks = reference_peaks(windows, grain)
        assert got_peaks == pytest.approx(expected_peaks, rel=1e-9, abs=1e-6)
    reply_revenue = await analytics.api.Revenue(
        a_query(pb.SCOPE_KIND_NETWORK, start=START, end=END, grain="day"), None
    )
    got_revenue = {
        (b.site_id, b.label, b.tariff_id, b.currency): Decimal(b.total_incl_vat)
        for b in reply_revenue.buckets
        if b.site_id in SITES  # a shared broker also carries other tests' stations
    }
    assert got_revenue == reference_revenue(month.billing_events)
    await assert_session_figures_match(analytics, month)


def session_figures(bucket: pb.SessionStatsBucket) -> tuple[float, ...]:
    return (
        bucket.sessions,
        bucket.failed_starts,
        bucket.no_energy_flow,
        bucket.rejected_authorizations,
        bucket.energy_wh,
        bucket.average_duration_s,
        bucket.average_idle_s,
        bucket.average_time_to_start_s,
        bucket.average_idle_after_charging_s,
    )


async def assert_session_figures_match(analytics: Any, month: Generated) -> None:
    breakdowns = {
        "day": pb.BREAKDOWN_TIME,
        "hour": pb.BREAKDOWN_HOUR_OF_DAY,
        "weekday": pb.BREAKDOWN_DAY_OF_WEEK,
    }
    scopes: list[tuple[str, dict[str, Any]]] = [
        *((site, {"site_id": site}) for site in SITES),
        ("site-berlin", {"kind": pb.SCOPE_KIND_STATION, "station_id": "CP-B2"}),
    ]
    for site, scope in scopes:
        station = str(scope.get("station_id", ""))
        for by, breakdown in breakdowns.items():
            reply = await analytics.api.SessionStats(
                a_query(**scope, start=START, end=END, grain="day", breakdown=breakdown), None
            )
            got = {b.label: session_figures(b) for b in reply.buckets}
            expected = reference_session_stats(
                month.session_events, month.transaction_events, site, by, station
            )
            assert got.keys() == expected.keys(), (site, station, by)
            for key, figures in expected.items():
                assert got[key] == pytest.approx(figures, rel=1e-9), (site, station, by, key)
    middle = MONTH_START.replace(day=15)
    expected_users = reference_users(month.session_events, month.transaction_events, middle, END)
    reply_users = await analytics.api.UserStats(
        a_query(pb.SCOPE_KIND_NETWORK, start=middle, end=END, grain="day"), None
    )
    got_users = {u.id_token: u for u in reply_users.users}
    assert got_users.keys() >= expected_users.keys()
    for token, user in expected_users.items():
        got_user = got_users[token]
        assert (got_user.sessions, got_user.returning, got_user.group_id) == (
            user.sessions,
            user.returning,
            user.group_id,
        ), token
        assert (got_user.token_source, got_user.roaming) == (
            user.token_source,
            user.token_source.startswith("ocpi:"),
        ), token
        assert got_user.energy_wh == pytest.approx(user.energy_wh, rel=1e-9), token
    mine = [u for t, u in got_users.items() if t in expected_users]
    summary = reply_users.summary
    roaming = [u for u in expected_users.values() if u.token_source.startswith("ocpi:")]
    # The month holds both kinds.
    assert roaming
    assert len(roaming) < len(expected_users)
    if len(mine) == len(got_users):  # alone on the database: the totals are ours too
        assert (summary.tokens, summary.roaming_tokens, summary.new_tokens) == (
            len(expected_users),
            len(roaming),
            sum(not u.returning for u in expected_users.values()),
        )
        assert summary.roaming_energy_wh == pytest.approx(sum(u.energy_wh for u in roaming))
        assert summary.own_sessions == sum(
            u.sessions for u in expected_users.values() if u not in roaming
        )
    reply_groups = await analytics.api.UserStats(
        a_query(
            pb.SCOPE_KIND_NETWORK,
            start=middle,
            end=END,
            grain="day",
            breakdown=pb.BREAKDOWN_TOKEN_GROUP,
        ),
        None,
    )
    assert not reply_groups.users
    got_groups = {
        g.group_id: (g.tokens, g.sessions, g.energy_wh, g.returning_tokens)
        for g in reply_groups.groups
    }
    expected_groups = reference_groups(expected_users)
    assert set(expected_groups) == {"", "FLEET-1", "FLEET-2"}
    if len(mine) == len(got_users):
        assert got_groups.keys() == expected_groups.keys()
        for group, group_figures in expected_groups.items():
            assert got_groups[group] == pytest.approx(group_figures, rel=1e-9), group


async def test_every_figure_equals_the_plain_computation_over_the_raw_events(
    analytics: Analytics, month: Generated
) -> None:
    await analytics.feed(TRANSACTION_EVENTS, month.transaction_events)
    await analytics.feed(BILLING_EVENTS, month.billing_events)
    await analytics.feed(SESSION_EVENTS, month.session_events)
    await assert_every_figure_matches(analytics, month)


async def test_a_restart_halfway_and_a_full_replay_give_the_same_figures(
    database_url: str, month: Generated
) -> None:
    half = len(month.transaction_events) // 2
    first = await open_analytics(database_url)
    await first.feed(TRANSACTION_EVENTS, month.transaction_events[:half])
    await first.engine.dispose()
    second = await open_analytics(database_url)
    try:
        await second.feed(TRANSACTION_EVENTS, month.transaction_events[half:])
        await second.feed(BILLING_EVENTS, month.billing_events)
        await second.feed(SESSION_EVENTS, month.session_events)
        await second.feed(TRANSACTION_EVENTS, month.transaction_events, batch=97)  # replay
        await second.feed(BILLING_EVENTS, month.billing_events)
        await second.feed(SESSION_EVENTS, month.session_events)
        await assert_every_figure_matches(second, month)
    finally:
        await second.engine.dispose()
