"""A migrated analytics database per test (SQLite and PostgreSQL) and the ingest on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiokafka import ConsumerRecord
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chargegrid.analytics.api import AnalyticsService
from chargegrid.analytics.app import MIGRATIONS
from chargegrid.analytics.authorizations import AuthorizationIngest
from chargegrid.analytics.consumers import FanOut, TopicRouter
from chargegrid.analytics.energy import EnergyIngest
from chargegrid.analytics.revenue import RevenueIngest
from chargegrid.analytics.sessions import SessionIngest
from chargegrid.analytics.sites import FixedSites, SiteInfo
from chargegrid.analytics.state_changes import StateChangeIngest
from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.platform.bus import Delivered
from chargegrid.platform.bus.topics import (
    BILLING_EVENTS,
    SESSION_EVENTS,
    STATION_EVENTS,
    TRANSACTION_EVENTS,
)
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.migrations import upgrade
from tests.integration.analytics.reference import SITES, STATIONS

NOW = datetime(2026, 4, 2, tzinfo=UTC)
GRAINS = {
    "15m": pb.GRANULARITY_15M,
    "hour": pb.GRANULARITY_HOUR,
    "day": pb.GRANULARITY_DAY,
    "month": pb.GRANULARITY_MONTH,
}


def reference_sites() -> FixedSites:
    return FixedSites({s: SiteInfo(site, SITES[site]) for s, site in STATIONS.items()})


def delivered(topic: str, envelopes: Sequence[Envelope]) -> list[Delivered]:
    return [
        (e, ConsumerRecord(topic, 0, i, 0, 0, None, b"", None, 0, 0, []))
        for i, e in enumerate(envelopes)
    ]


def stamp(at: datetime) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(at)
    return value


def a_query(
    kind: int = pb.SCOPE_KIND_SITE,
    site_id: str = "",
    *,
    start: datetime,
    end: datetime,
    grain: str = "day",
    page_size: int = 5000,
    breakdown: int = pb.BREAKDOWN_TIME,
    **scope: object,
) -> pb.AnalyticsQuery:
    return pb.AnalyticsQuery(
        breakdown=breakdown,  # type: ignore[arg-type]
        scope=pb.Scope(kind=kind, site_id=site_id, **scope),  # type: ignore[arg-type]
        start=stamp(start),
        end=stamp(end),
        granularity=GRAINS[grain],
        page=PageRequest(page_size=page_size),
    )


@dataclass
class Analytics:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    router: TopicRouter
    api: AnalyticsService

    async def feed(self, topic: str, envelopes: Sequence[Envelope], batch: int = 250) -> None:
        for i in range(0, len(envelopes), batch):
            await self.router(delivered(topic, envelopes[i : i + batch]))


async def open_analytics(database_url: str) -> Analytics:
    engine = create_engine(database_url)
    await upgrade(engine, MIGRATIONS)
    sessions = session_factory(engine)
    states = StateChangeIngest(sessions, reference_sites())
    router = TopicRouter(
        {
            TRANSACTION_EVENTS: FanOut(
                EnergyIngest(sessions, reference_sites(), lambda: NOW),
                AuthorizationIngest(sessions, reference_sites()),
                states,
            ),
            STATION_EVENTS: states,
            BILLING_EVENTS: RevenueIngest(sessions, lambda: NOW),
            SESSION_EVENTS: SessionIngest(sessions, reference_sites(), lambda: NOW),
        }
    )
    return Analytics(engine, sessions, router, AnalyticsService(sessions, 370))


@pytest.fixture
async def analytics(database_url: str) -> AsyncIterator[Analytics]:
    opened = await open_analytics(database_url)
    yield opened
    await opened.engine.dispose()
