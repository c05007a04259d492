"""gRPC `Analytics`: translates proto <-> figures; every refusal is a domain error.

Queries read the service's database only. The RPCs whose figures this service does not
compute yet answer UNIMPLEMENTED, saying so, rather than an empty answer that looks real.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.analytics import figures, session_figures
from chargegrid.analytics.query import (
    EARLIEST,
    Breakdown,
    Query,
    breakdown_of,
    next_token,
    query_of,
)
from chargegrid.analytics.rebuild import Removed
from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.api.analytics.v1 import analytics_pb2_grpc as pb_grpc
from chargegrid.platform.bus.envelope import utc_now
from chargegrid.platform.grpc.errors import InvalidArgument, Unimplemented

SERVICE_NAME = "chargegrid.api.analytics.v1.Analytics"


def _ts(value: Any) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


Rebuilder = Callable[[datetime], Awaitable[tuple[Removed, str]]]


class AnalyticsService(pb_grpc.AnalyticsServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        max_query_days: int,
        rebuilder: Rebuilder | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sessions = sessions
        self.max_query_days = max_query_days
        self.rebuilder = rebuilder
        self.clock = clock

    async def Rebuild(self, request: pb.RebuildRequest, context: Any) -> pb.RebuildReply:
        if not request.HasField("from"):
            raise InvalidArgument("from is required: the time to recompute from")
        since = getattr(request, "from").ToDatetime(tzinfo=UTC)
        if since > self.clock():
            raise InvalidArgument(f"from ({since.isoformat()}) is in the future")
        if since < EARLIEST:
            raise InvalidArgument("from must lie after 2000")
        if self.rebuilder is None:
            raise Unimplemented("this analytics process does not consume topics")
        removed, group = await self.rebuilder(since)
        return pb.RebuildReply(
            readings_removed=removed.readings, cdrs_removed=removed.cdrs, consumer_group=group
        )

    def _query(self, request: pb.AnalyticsQuery) -> Query:
        return query_of(request, self.max_query_days)

    async def Energy(self, request: pb.AnalyticsQuery, context: Any) -> pb.EnergyReply:
        query = self._query(request)
        async with self.sessions() as session:
            buckets, total = await figures.energy(session, query)
        return pb.EnergyReply(
            buckets=[
                pb.EnergyBucket(
                    label=b.label,
                    start=Timestamp(seconds=b.start_s),
                    energy_wh=b.energy_wh,
                    average_power_w=b.average_power_w,
                )
                for b in buckets
            ],
            next_page_token=next_token(query, len(buckets)),
            total_wh=total,
        )

    async def Peaks(self, request: pb.AnalyticsQuery, context: Any) -> pb.PeaksReply:
        query = self._query(request)
        async with self.sessions() as session:
            found = await figures.peaks(session, query)
        return pb.PeaksReply(
            peaks=[
                pb.Peak(
                    site_id=p.site_id,
                    label=p.label,
                    window_start=_ts(p.window_start),
                    peak_power_w=p.peak_power_w,
                )
                for p in found
            ],
            next_page_token=next_token(query, len(found)),
        )

    async def Revenue(self, request: pb.AnalyticsQuery, context: Any) -> pb.RevenueReply:
        query = self._query(request)
        async with self.sessions() as session:
            found = await figures.revenue(session, query)
        return pb.RevenueReply(
            buckets=[
                pb.RevenueBucket(
                    site_id=b.site_id,
                    label=b.label,
                    tariff_id=b.tariff_id,
                    currency=b.currency,
                    total_excl_vat=str(b.total_excl_vat.normalize()),
                    total_incl_vat=str(b.total_incl_vat.normalize()),
                    sessions=b.sessions,
                    energy_wh=b.energy_wh,
                )
                for b in found
            ],
            next_page_token=next_token(query, len(found)),
        )

    async def _not_yet(self, request: pb.AnalyticsQuery, figure: str) -> None:
        self._query(request)  # bad input is still refused as such
        raise Unimplemented(f"{figure} is not computed by this analytics version yet")

    async def Utilization(self, request: pb.AnalyticsQuery, context: Any) -> pb.UtilizationReply:
        await self._not_yet(request, "utilization")
        return pb.UtilizationReply()

    async def Uptime(self, request: pb.AnalyticsQuery, context: Any) -> pb.UptimeReply:
        await self._not_yet(request, "uptime")
        return pb.UptimeReply()

    async def SessionStats(self, request: pb.AnalyticsQuery, context: Any) -> pb.SessionStatsReply:
        query = self._query(request)
        breakdown = breakdown_of(request)
        async with self.sessions() as session:
            found = await session_figures.session_stats(session, query, breakdown)
        return pb.SessionStatsReply(
            buckets=[
                pb.SessionStatsBucket(
                    label=b.label,
                    sessions=b.sessions,
                    failed_starts=b.failed_starts,
                    no_energy_flow=b.no_energy,
                    rejected_authorizations=b.rejected,
                    average_time_to_start_s=b.average_time_to_start_s,
                    average_idle_after_charging_s=b.average_idle_after_charging_s,
                    energy_wh=b.energy_wh,
                    average_duration_s=b.average_duration_s,
                    average_idle_s=b.average_idle_s,
                    average_energy_wh=b.energy_wh / b.sessions if b.sessions else 0.0,
                )
                for b in found
            ],
            next_page_token=next_token(query, len(found)),
        )

    async def UserStats(self, request: pb.AnalyticsQuery, context: Any) -> pb.UserStatsReply:
        query = self._query(request)
        breakdown = breakdown_of(request)
        if breakdown not in (Breakdown.TIME, Breakdown.TOKEN_GROUP):
            raise InvalidArgument("user statistics are per token, or per token group")
        async with self.sessions() as session:
            found = await session_figures.users(session, query)
        total = session_figures.summary(found)
        reply = pb.UserStatsReply(
            summary=pb.UserSummary(
                tokens=total.tokens,
                returning_tokens=total.returning_tokens,
                new_tokens=total.tokens - total.returning_tokens,
                sessions=total.sessions,
                energy_wh=total.energy_wh,
                roaming_tokens=total.roaming_tokens,
                roaming_sessions=total.roaming_sessions,
                roaming_energy_wh=total.roaming_energy_wh,
                own_tokens=total.tokens - total.roaming_tokens,
                own_sessions=total.sessions - total.roaming_sessions,
                own_energy_wh=total.energy_wh - total.roaming_energy_wh,
            )
        )
        if breakdown is Breakdown.TOKEN_GROUP:
            page = session_figures.groups(found)[query.offset : query.offset + query.size]
            reply.groups.extend(
                pb.UserGroupRow(
                    group_id=g.group_id,
                    tokens=g.tokens,
                    sessions=g.sessions,
                    energy_wh=g.energy_wh,
                    returning_tokens=g.returning_tokens,
                    new_tokens=g.tokens - g.returning_tokens,
                )
                for g in page
            )
        else:
            users = found[query.offset : query.offset + query.size]
            reply.users.extend(
                pb.UserStatsRow(
                    id_token=u.id_token,
                    sessions=u.sessions,
                    energy_wh=u.energy_wh,
                    returning=u.returning,
                    token_type=u.token_type,
                    group_id=u.group_id,
                    token_source=u.token_source,
                    roaming=u.roaming,
                )
                for u in users
            )
        reply.next_page_token = next_token(query, len(reply.groups) + len(reply.users))
        return reply
