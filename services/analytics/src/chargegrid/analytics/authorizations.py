"""Authorization ingest: refused tokens (failed starts) and each session's token group/source.

From transaction.events.v1: `transaction.authorized` (an Authorize answered),
`transaction.started` and a `transaction.updated` that carries a token (2.x: a token
presented after plug-in). A status other than Accepted is a failed start by rejected
authorization, one row per event id, labelled on its site's clock like closed sessions.
The first accepted token of a transaction gives the session its group and source (roaming
or own), which user statistics join by session id. Rows are keyed by event or session id,
so re-delivery and replay never add twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.analytics.models import RefusedAuthorizationRow, SessionTokenRow
from chargegrid.analytics.sites import SiteInfo, SiteLookup
from chargegrid.analytics.upsert import insert_new
from chargegrid.analytics.windows import zone
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.platform.bus import Delivered, unpack
from chargegrid.platform.bus.envelope import occurred_at

AUTHORIZED, STARTED, UPDATED = (
    "transaction.authorized",
    "transaction.started",
    "transaction.updated",
)
HANDLED = frozenset({AUTHORIZED, STARTED, UPDATED})
#: No decision recorded (a 2.x start without a token): nothing was refused.
NOT_REFUSED = frozenset({"", "Accepted"})


def _decision(envelope: Envelope) -> tuple[str, int, str, str, str, str, datetime] | None:
    """(transaction id, evse, token, status, group, source, when), or None: no token."""
    if envelope.type == AUTHORIZED:
        a = unpack(envelope, tx.TokenAuthorized)
        fields = ("", a.evse_id, a.id_token.id, a.authorization_status, a.group_id)
        return (*fields, a.token_source, occurred_at(envelope))
    if envelope.type == STARTED:
        s = unpack(envelope, tx.TransactionStarted)
        when = s.started_at.ToDatetime(tzinfo=UTC) if s.HasField("started_at") else None
        fields = (s.transaction_id, s.evse_id, s.id_token.id, s.authorization_status, s.group_id)
        return (*fields, s.token_source, when or occurred_at(envelope))
    u = unpack(envelope, tx.TransactionUpdated)
    if not u.id_token.id:
        return None
    when = u.timestamp.ToDatetime(tzinfo=UTC) if u.HasField("timestamp") else None
    fields = (u.transaction_id, u.evse_id, u.id_token.id, u.authorization_status, u.group_id)
    return (*fields, u.token_source, when or occurred_at(envelope))


def refusal_row(
    event_id: str,
    station_id: str,
    site: SiteInfo,
    evse_id: int,
    token: str,
    status: str,
    at: datetime,
) -> dict[str, object]:
    local = at.astimezone(zone(site.timezone))
    return {
        "event_id": event_id,
        "station_id": station_id,
        "site_id": site.site_id,
        "evse_id": evse_id,
        "id_token": token,
        "status": status,
        "at": int(at.timestamp()),
        "label_day": local.strftime("%Y-%m-%d"),
        "label_month": local.strftime("%Y-%m"),
        "hour_of_day": local.strftime("%H"),
        "day_of_week": str(local.isoweekday()),
    }


class AuthorizationIngest:
    """The batch handler of transaction.events.v1 for authorization decisions."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], sites: SiteLookup) -> None:
        self.sessions = sessions
        self.sites = sites

    async def __call__(self, batch: Sequence[Delivered]) -> None:
        refused: dict[str, dict[str, object]] = {}
        tokens: dict[str, dict[str, object]] = {}
        for envelope, _ in batch:
            if envelope.type not in HANDLED:
                continue
            decision = _decision(envelope)
            if decision is None:
                continue
            transaction_id, evse_id, token, status, group_id, source, at = decision
            station_id = envelope.station_id
            if status not in NOT_REFUSED:
                site = await self.sites(station_id)
                refused[envelope.event_id] = refusal_row(
                    envelope.event_id, station_id, site, evse_id, token, status, at
                )
            elif transaction_id and token:
                session_id = f"{station_id}:{transaction_id}"
                tokens.setdefault(
                    session_id,
                    {"session_id": session_id, "group_id": group_id, "token_source": source},
                )
        if not refused and not tokens:
            return
        async with self.sessions() as db, db.begin():
            await insert_new(db, RefusedAuthorizationRow.__table__, list(refused.values()))
            await insert_new(db, SessionTokenRow.__table__, list(tokens.values()))
