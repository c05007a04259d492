"""Analytics: ingest events/s of one worker with the broker, and query latency from SQL.

1. Ingest: the generated month of tests/integration/analytics/reference.py (4 stations,
   3 sites, late, duplicated and resent events) scaled up by sessions per day, published to
   the embedded broker first, then one AnalyticsApp (SQLite) is started and timed until
   every event id is claimed: events/s per worker, end to end (poll, decode, claim, readings,
   window upserts, commit).
2. Queries: a year of 15-minute energy rows (35,040 windows x 2 EVSEs per site) for 8 sites
   with their local hour and day sums and the site and network rollups, written straight
   into the tables as ingest keeps them, then Energy through the servicer: one site's year
   by day, by month, its first pages (5,000 buckets) by hour and by 15 minutes; the
   network's year by day, by month and its first 15-minute page. p50/p99 over 40 calls
   each (10 for the network), SQLite and (when reachable) PostgreSQL. Target: < 100 ms p99.
3. Utilization and uptime (computed at query time from state changes, ADR 016): a year of
   state changes for 3 sites of 4 stations x 2 EVSEs (STATE_SESSIONS_PER_DAY sessions per
   port and day, 7 rows each: 5 status notifications and the transaction's start and end,
   ~120,000 rows per site), written straight into `state_changes`; then one site's year of
   Utilization by day and by month, Uptime by month, the AFIR Status; p50/p99.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import func, insert, select

from chargegrid.analytics.api import AnalyticsService
from chargegrid.analytics.app import MIGRATIONS, AnalyticsApp
from chargegrid.analytics.energy import CONSUMER_NAME as ENERGY_CONSUMER
from chargegrid.analytics.energy import HANDLED as ENERGY_HANDLED
from chargegrid.analytics.models import (
    EnergyDayRow,
    EnergyHourRow,
    EnergyWindowRow,
    StateChangeRow,
    StateStationRow,
)
from chargegrid.analytics.rollups import Rollups
from chargegrid.analytics.settings import AnalyticsSettings
from chargegrid.analytics.sites import FixedSites, SiteInfo
from chargegrid.analytics.windows import local_labels
from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.platform.bus import EventProducer, ProducerConfig, ensure_topics
from chargegrid.platform.bus.idempotency import processed_events
from chargegrid.platform.bus.topics import TRANSACTION_EVENTS, default_topic_specs
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port
from chargegrid.platform.migrations import upgrade
from tests.integration.analytics.reference import SITES, STATIONS, generate

YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
QUARTERS_PER_YEAR = 365 * 96
QUERY_SITES = 8
CALLS = 40


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p99_ms": round(p99 * 1000, 2)}


async def bench_ingest(bootstrap: str, var: Path) -> dict[str, Any]:
    month = generate(seed=7, sessions_per_day=6)
    events = month.transaction_events
    # The energy ingest claims every transaction fact once (the other ingests of the topic
    # claim under their own names, and accepted Authorizes are claimed by none of them).
    unique = len({e.event_id for e in events if e.type in ENERGY_HANDLED})
    await ensure_topics(bootstrap, default_topic_specs())
    async with EventProducer(ProducerConfig(bootstrap)) as producer:
        for i in range(0, len(events), 1000):
            await producer.publish_batch([(TRANSACTION_EVENTS, e) for e in events[i : i + 1000]])
    settings = AnalyticsSettings(
        database_url=f"sqlite:///{var / 'ingest.db'}",
        kafka_bootstrap_servers=bootstrap,
        grpc_host="127.0.0.1",
        grpc_port=0,
        metrics_port=0,
        api_tokens_file=var / "tokens.json",
        consumer_group=f"bench-{uuid.uuid4().hex[:6]}",
    )
    sites = FixedSites({s: SiteInfo(site, SITES[site]) for s, site in STATIONS.items()})
    app = AnalyticsApp(
        settings,
        sites=sites,
        consumer_tuning={"session_timeout_ms": 2000, "heartbeat_interval_ms": 300},
    )
    started = time.perf_counter()
    await app.start()
    try:
        claimed = 0
        while claimed < unique:
            await asyncio.sleep(0.2)
            async with app.sessions() as db:
                claimed = int(
                    await db.scalar(
                        select(func.count())
                        .select_from(processed_events)
                        .where(processed_events.c.consumer == ENERGY_CONSUMER)
                    )
                    or 0
                )
        elapsed = time.perf_counter() - started
    finally:
        await app.stop()
    return {
        "events": len(events),
        "unique_events": unique,
        "seconds": round(elapsed, 2),
        "events_per_s_per_worker": round(len(events) / elapsed),
        "note": "includes worker start and group join (~2 s)",
    }


def _year_rows(site: int, rollups: Rollups) -> dict[Any, list[dict[str, Any]]]:
    """A year of windows for two EVSEs, their local hour and day sums, and (into `rollups`)
    the site and network buckets, as ingest keeps them."""
    windows: list[dict[str, Any]] = []
    hours: dict[tuple[int, int], dict[str, Any]] = {}
    days: dict[tuple[int, int], dict[str, Any]] = {}
    station = f"BENCH-{site}"
    for quarter in range(QUARTERS_PER_YEAR):
        start = YEAR_START + timedelta(minutes=15 * quarter)
        labels = local_labels(start, "Europe/Berlin")
        for evse in (1, 2):
            wh = float((quarter * 7 + evse) % 500)
            common = {"station_id": station, "evse_id": evse, "site_id": f"site-{site}"}
            windows.append(
                {
                    **common,
                    "window_start": int(start.timestamp()),
                    "label_quarter": labels.quarter,
                    "label_hour": labels.hour,
                    "label_day": labels.day,
                    "label_month": labels.month,
                    "wh": wh,
                }
            )
            hour = int(labels.hour_start.timestamp())
            day = int(labels.day_start.timestamp())
            rollups.add(f"site-{site}", int(start.timestamp()), labels, wh)
            hours.setdefault(
                (evse, hour), {**common, "hour_start": hour, "label_hour": labels.hour, "wh": 0.0}
            )["wh"] += wh
            days.setdefault(
                (evse, day),
                {
                    **common,
                    "day_start": day,
                    "label_day": labels.day,
                    "label_month": labels.month,
                    "wh": 0.0,
                },
            )["wh"] += wh
    return {
        EnergyWindowRow: windows,
        EnergyHourRow: list(hours.values()),
        EnergyDayRow: list(days.values()),
    }


def _stamp(at: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(at)
    return value


def _query(scope: pb.Scope, grain: int, page_size: int = 5000) -> pb.AnalyticsQuery:
    return pb.AnalyticsQuery(
        scope=scope,
        start=_stamp(YEAR_START),
        end=_stamp(YEAR_START + timedelta(days=365)),
        granularity=grain,  # type: ignore[arg-type]
        page=PageRequest(page_size=page_size),
    )


async def bench_queries(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    await upgrade(engine, MIGRATIONS)
    sessions = session_factory(engine)
    try:
        loaded = time.perf_counter()
        rollups = Rollups()
        for number in range(QUERY_SITES):
            async with sessions() as db, db.begin():
                for model, rows in _year_rows(number, rollups).items():
                    for i in range(0, len(rows), 10_000):
                        await db.execute(insert(model), rows[i : i + 10_000])
        async with sessions() as db, db.begin():
            await rollups.write(db)
        load_s = time.perf_counter() - loaded
        api = AnalyticsService(sessions, 370)
        site = pb.Scope(kind=pb.SCOPE_KIND_SITE, site_id="site-0")
        network = pb.Scope(kind=pb.SCOPE_KIND_NETWORK)
        cases = {
            "site_year_by_day": _query(site, pb.GRANULARITY_DAY),
            "site_year_by_month": _query(site, pb.GRANULARITY_MONTH),
            "site_year_by_hour_first_page": _query(site, pb.GRANULARITY_HOUR),
            "site_year_15m_first_page": _query(site, pb.GRANULARITY_15M),
            "network_year_by_day": _query(network, pb.GRANULARITY_DAY),
            "network_year_by_month": _query(network, pb.GRANULARITY_MONTH),
            "network_year_15m_first_page": _query(network, pb.GRANULARITY_15M),
        }
        result: dict[str, Any] = {
            "rows": QUERY_SITES * QUARTERS_PER_YEAR * 2,
            "load_s": round(load_s, 1),
        }
        for name, request in cases.items():
            await api.Energy(request, None)  # warm the cache
            samples = []
            for _ in range(CALLS if not name.startswith("network") else CALLS // 4):
                began = time.perf_counter()
                await api.Energy(request, None)
                samples.append(time.perf_counter() - began)
            result[name] = _ms(samples)
        return result
    finally:
        await engine.dispose()


STATE_SITES = 3
STATE_STATIONS = 4
STATE_SESSIONS_PER_DAY = 6
#: A session's status notifications: (minutes after plug-in, status).
SESSION_STATUSES = ((0, "Preparing"), (2, "Charging"), (70, "SuspendedEV"), (95, "Finishing"))


def _state_rows(site: int) -> list[dict[str, Any]]:
    """A year of one site's state changes, as the state-change ingest keeps them."""
    rows: list[dict[str, Any]] = []
    start_ms = int(YEAR_START.timestamp() * 1000)

    def add(station: str, evse: int, at_min: int, signal: str, value: str, **extra: Any) -> None:
        rows.append(
            {
                "event_id": f"s{site}-{len(rows)}",
                "station_id": station,
                "evse_id": evse,
                "site_id": f"state-site-{site}",
                "timezone": "Europe/Berlin",
                "at_ms": start_ms + at_min * 60_000,
                "signal": signal,
                "value": value,
                "transaction_id": extra.get("transaction_id", ""),
                "wh": extra.get("wh"),
            }
        )

    for number in range(STATE_STATIONS):
        station = f"STATE-{site}-{number}"
        add(station, 0, 0, "link", "online")
        for evse in (1, 2):
            add(station, evse, 0, "status", "Available")
            for day in range(365):
                for n in range(STATE_SESSIONS_PER_DAY):
                    plug = day * 1440 + 360 + n * 170 + evse * 7 + number
                    for offset, status in SESSION_STATUSES:
                        add(station, evse, plug + offset, "status", status)
                    tid = f"{station}-{evse}-{day}-{n}"
                    add(station, evse, plug + 2, "tx", "start", transaction_id=tid, wh=0.0)
                    wh = 0.0 if n == 3 and day % 10 == 0 else 20_000.0
                    add(station, evse, plug + 95, "tx", "end", transaction_id=tid, wh=wh)
                    add(station, evse, plug + 120, "status", "Available")
            if number == 0 and evse == 1:
                for day in range(5, 365, 30):  # a monthly fault
                    add(station, evse, day * 1440 + 60, "status", "Faulted")
                    add(station, evse, day * 1440 + 200, "status", "Available")
    return rows


async def bench_state_queries(url: str) -> dict[str, Any]:
    engine = create_engine(url)
    await upgrade(engine, MIGRATIONS)
    sessions = session_factory(engine)
    try:
        loaded = time.perf_counter()
        per_site = 0
        for number in range(STATE_SITES):
            rows = _state_rows(number)
            per_site = len(rows)
            stations = [
                {"station_id": st, "site_id": site, "timezone": zone, "valid_until_ms": 0}
                for st, site, zone in sorted(
                    {(r["station_id"], r["site_id"], r["timezone"]) for r in rows}
                )
            ]
            async with sessions() as db, db.begin():
                for i in range(0, len(rows), 10_000):
                    await db.execute(insert(StateChangeRow), rows[i : i + 10_000])
                await db.execute(insert(StateStationRow), stations)  # as ingest keeps them
        load_s = time.perf_counter() - loaded
        api = AnalyticsService(sessions, 370, clock=lambda: YEAR_START + timedelta(days=366))
        site = pb.Scope(kind=pb.SCOPE_KIND_SITE, site_id="state-site-0")
        cases: dict[str, Any] = {
            "utilization_site_year_by_day": (api.Utilization, _query(site, pb.GRANULARITY_DAY)),
            "utilization_site_year_by_month": (
                api.Utilization,
                _query(site, pb.GRANULARITY_MONTH),
            ),
            "uptime_site_year_by_month": (api.Uptime, _query(site, pb.GRANULARITY_MONTH)),
            "status_site": (api.Status, pb.StatusRequest(scope=site)),
        }
        result: dict[str, Any] = {
            "rows_per_site": per_site,
            "ports_per_site": STATE_STATIONS * 2,
            "load_s": round(load_s, 1),
        }
        for name, (method, request) in cases.items():
            began = time.perf_counter()
            await method(request, None)  # warm the cache (fills the cached days)
            first_ms = round((time.perf_counter() - began) * 1000, 1)
            samples = []
            cpu = time.process_time()
            for _ in range(CALLS // 4):
                began = time.perf_counter()
                await method(request, None)
                samples.append(time.perf_counter() - began)
            reply = await method(request, None)
            result[name] = {
                **_ms(samples),
                "first_call_ms": first_ms,
                "items": len(
                    getattr(reply, "buckets", None) or getattr(reply, "evses", None) or reply.ports
                ),
                "cpu_ms_per_call": round((time.process_time() - cpu) / (CALLS // 4) * 1000, 2),
            }
        return result
    finally:
        await engine.dispose()


async def _postgres_url() -> str | None:
    import asyncpg

    base = os.environ.get(
        "CHARGEGRID_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    )
    try:
        admin = await asyncpg.connect(base, timeout=5)
    except (OSError, asyncpg.PostgresError):
        return None
    name = f"cg_bench_{uuid.uuid4().hex[:8]}"
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return base.rsplit("/", 1)[0] + f"/{name}"


async def _drop(url: str) -> None:
    import asyncpg

    base, name = url.rsplit("/", 1)
    admin = await asyncpg.connect(base + "/postgres", timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def run() -> dict[str, Any]:
    result: dict[str, Any] = {}
    broker = EmbeddedBroker(port=free_port())
    await broker.start()
    try:
        with tempfile.TemporaryDirectory() as var:
            result["ingest"] = await asyncio.wait_for(
                bench_ingest(broker.bootstrap_servers, Path(var)), 300
            )
    finally:
        await broker.stop()
    with tempfile.TemporaryDirectory() as var:
        result["queries_sqlite"] = await bench_queries(f"sqlite:///{Path(var) / 'q.db'}")
        result["state_queries_sqlite"] = await bench_state_queries(
            f"sqlite:///{Path(var) / 's.db'}"
        )
    postgres = await _postgres_url()
    if postgres is not None:
        try:
            result["queries_postgresql"] = await bench_queries(postgres)
            result["state_queries_postgresql"] = await bench_state_queries(postgres)
        finally:
            await _drop(postgres)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(asyncio.run(run()), indent=2))
