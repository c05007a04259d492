"""Session ingest: session.events.v1 `session.closed` -> one row per closed session.

The row keeps what the statistics group and sum: the start in its site's local clock (day,
month, hour of day, ISO day of week), duration, time plugged in but not charging, energy,
whether no energy flowed, and the id token. The session id is the key and the event id is
claimed in the same transaction, so a session closed event delivered twice counts once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.analytics.models import ClosedSessionRow
from chargegrid.analytics.sites import SiteInfo, SiteLookup
from chargegrid.analytics.upsert import insert_new
from chargegrid.analytics.windows import zone
from chargegrid.api.session.v1 import session_pb2 as spb
from chargegrid.platform.bus import Delivered, UndecodableEvent, claim_events, unpack

CONSUMER_NAME = "analytics.sessions"
SESSION_CLOSED = "session.closed"
HANDLED = frozenset({SESSION_CLOSED})


def session_row(session: spb.Session, site: SiteInfo) -> dict[str, object]:
    if not session.id or not session.HasField("started_at"):
        raise UndecodableEvent("a closed session without an id or a start")
    started = session.started_at.ToDatetime(tzinfo=UTC)
    ended = session.ended_at.ToDatetime(tzinfo=UTC) if session.HasField("ended_at") else started
    duration = max(0, int((ended - started).total_seconds()))
    local = started.astimezone(zone(site.timezone))
    return {
        "session_id": session.id,
        "station_id": session.station_id,
        "site_id": session.site_id or site.site_id,
        "evse_id": session.evse_id,
        "id_token": session.id_token.id,
        "token_type": session.id_token.type,
        "started_at": int(started.timestamp()),
        "duration_s": duration,
        "idle_s": max(0, duration - int(session.charging_s)),
        "energy_wh": float(session.energy_wh),
        "no_energy": int(session.energy_wh <= 0),
        "label_day": local.strftime("%Y-%m-%d"),
        "label_month": local.strftime("%Y-%m"),
        "hour_of_day": local.strftime("%H"),
        "day_of_week": str(local.isoweekday()),
    }


class SessionIngest:
    """The batch handler of session.events.v1 (only `session.closed` is wanted)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        sites: SiteLookup,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.sites = sites
        self.clock = clock

    async def __call__(self, batch: Sequence[Delivered]) -> None:
        closed = [(e.event_id, unpack(e, spb.SessionClosed).session) for e, _ in batch]
        decoded = [
            (event_id, session_row(s, await self.sites(s.station_id))) for event_id, s in closed
        ]
        async with self.sessions() as db, db.begin():
            fresh = await claim_events(
                db, CONSUMER_NAME, [event_id for event_id, _ in decoded], self.clock()
            )
            rows: dict[object, dict[str, object]] = {}
            for event_id, row in decoded:
                if event_id in fresh:
                    rows.setdefault(row["session_id"], row)
            await insert_new(db, ClosedSessionRow.__table__, list(rows.values()))
