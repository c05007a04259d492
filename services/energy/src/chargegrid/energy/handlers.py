"""What the energy service takes from Kafka, applied a partition's batch at a time.

transaction.events.v1 opens, measures and closes charging EVSEs; session.events.v1's
closed sessions also close them (the session sweeper ends transactions a station lost);
station.events.v1 gives connectivity, boots (which earn the station its default profile)
and 2.x NotifyEVChargingNeeds (kept whole by the gateway as a notification). Each event id
is claimed in the same database transaction as its changes, so a re-delivered batch changes
nothing. After the commit the controllers are told which stations changed and why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as ses
from chargegrid.api.station.v1 import events_pb2 as st
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.energy import meter
from chargegrid.energy.directory import VERSIONS, Directory, DirectoryUnavailable, TokenGroups
from chargegrid.energy.models import ChargingEvseRow, StationStateRow
from chargegrid.platform.bus import Delivered, claim_events, unpack
from chargegrid.platform.logging import get_logger

CONSUMER_NAME = "energy.events"
STARTED = "transaction.started"
UPDATED = "transaction.updated"
ENDED = "transaction.ended"
SESSION_CLOSED = "session.closed"
CONNECTED = "station.connected"
DISCONNECTED = "station.disconnected"
BOOTED = "station.booted"
STATUS = "station.status_changed"
NOTIFICATION = "station.notification"
EVENT_TYPES = frozenset(
    {STARTED, UPDATED, ENDED, SESSION_CLOSED, CONNECTED, DISCONNECTED, BOOTED, STATUS, NOTIFICATION}
)
CHARGING_NEEDS = "NotifyEVChargingNeeds"

#: (station id, trigger) for every station whose allocation inputs changed.
Changes = list[tuple[str, str]]
Notify = Callable[[Changes], Awaitable[None]]

log = get_logger(__name__)


async def _nothing(_changes: Changes) -> None:
    return None


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


class EnergyEvents:
    """The batch handler of the energy consumer."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        directory: Directory,
        groups: TokenGroups,
        notify: Notify = _nothing,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.directory = directory
        self.groups = groups
        self.notify = notify

    async def batch(self, items: Sequence[Delivered]) -> None:
        wanted = [e for e, _ in items if e.station_id and e.type in EVENT_TYPES]
        if not wanted:
            return
        sites = await self._sites({e.station_id for e in wanted})
        groups = await self._groups(wanted)
        now = self.clock()
        changes: Changes = []
        async with self.sessions() as session, session.begin():
            fresh = await claim_events(session, CONSUMER_NAME, [e.event_id for e in wanted], now)
            for envelope in wanted:
                if envelope.event_id not in fresh:
                    continue
                fresh.discard(envelope.event_id)  # a batch may carry an id twice
                trigger = await self._apply(session, envelope, sites, groups, now)
                if trigger:
                    changes.append((envelope.station_id, trigger))
        if changes:
            await self.notify(changes)

    async def _sites(self, station_ids: set[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for station_id in station_ids:
            try:
                info = await self.directory.station(station_id)
            except DirectoryUnavailable:
                continue  # "" for now; the controllers resolve it later
            found[station_id] = info.site_id if info else ""
        return found

    async def _groups(self, envelopes: list[Envelope]) -> dict[str, str]:
        tokens = {
            unpack(e, tx.TransactionStarted).id_token.id for e in envelopes if e.type == STARTED
        }
        return {token: await self.groups.group_of(token) for token in tokens if token}

    async def _apply(
        self,
        session: AsyncSession,
        envelope: Envelope,
        sites: dict[str, str],
        groups: dict[str, str],
        now: datetime,
    ) -> str:
        """Apply one event; the trigger to tell the controller ("" = nothing changed)."""
        station_id = envelope.station_id
        kind = envelope.type
        if kind == STARTED:
            started = unpack(envelope, tx.TransactionStarted)
            token = started.id_token.id
            at = (
                started.started_at.ToDatetime(tzinfo=now.tzinfo)
                if started.HasField("started_at")
                else now
            )
            await self._open(
                session,
                station_id,
                started.evse_id or started.connector_id,
                started.transaction_id,
                sites.get(station_id, ""),
                now,
                min(at, now),
                token=token,
                group=groups.get(token, ""),
                samples=started.samples,
            )
            return "session started"
        if kind == UPDATED:
            updated = unpack(envelope, tx.TransactionUpdated)
            evse_id = updated.evse_id or updated.connector_id
            await self._open(
                session,
                station_id,
                evse_id,
                updated.transaction_id,
                sites.get(station_id, ""),
                now,
                now,
                samples=updated.samples,
            )
            return "meter values"
        if kind == ENDED:
            ended = unpack(envelope, tx.TransactionEnded)
            return await self._close(session, station_id, ended.transaction_id)
        if kind == SESSION_CLOSED:
            closed = unpack(envelope, ses.SessionClosed).session
            return await self._close(session, station_id, closed.transaction_id)
        if kind in (CONNECTED, DISCONNECTED, BOOTED):
            return await self._connectivity(session, envelope, now)
        if kind == NOTIFICATION:
            note = unpack(envelope, st.NotificationReceived)
            if note.action == CHARGING_NEEDS:
                return await self._charging_needs(session, station_id, note.payload_json, now)
            return ""
        return "status changed"

    async def _open(
        self,
        session: AsyncSession,
        station_id: str,
        evse_id: int,
        transaction_id: str,
        site_id: str,
        now: datetime,
        started_at: datetime,
        *,
        token: str = "",
        group: str = "",
        samples: Any = (),
    ) -> None:
        if not transaction_id:
            return
        # 2.x updates may leave out the EVSE: the transaction id finds it.
        row = (
            await session.scalars(
                select(ChargingEvseRow)
                .where(ChargingEvseRow.station_id == station_id)
                .where(ChargingEvseRow.transaction_id == transaction_id)
            )
        ).first()
        if row is None and not evse_id:
            return  # nothing says where it charges; its start or a later update will
        if row is None:
            row = await session.get(ChargingEvseRow, (station_id, evse_id))
        if row is not None and row.transaction_id != transaction_id:
            # A new transaction on the EVSE: the old one ended without our hearing of it.
            await session.delete(row)
            await session.flush()
            row = None
        if row is None:
            # An update first (the start was before this service existed) opens it too;
            # events of a station arrive in order, so no update follows its end.
            row = ChargingEvseRow(
                station_id=station_id,
                evse_id=evse_id,
                site_id=site_id,
                transaction_id=transaction_id,
                id_token=token,
                group_id=group,
                started_at=started_at,
                updated_at=now,
            )
            session.add(row)
        if token and not row.id_token:
            row.id_token, row.group_id = token, group
        if site_id and not row.site_id:
            row.site_id = site_id
        measured, taken = meter.currents(samples)
        if any(value is not None for value in measured):
            row.measured_l1_a, row.measured_l2_a, row.measured_l3_a = measured
            row.measured_at = taken or now
        register = meter.energy_register_wh(samples)
        if register is not None:
            row.energy_register_wh = register
            if row.energy_needed_wh is not None and row.needs_register_wh is None:
                row.needs_register_wh = register
        row.updated_at = now

    @staticmethod
    async def _close(session: AsyncSession, station_id: str, transaction_id: str) -> str:
        result = await session.execute(
            delete(ChargingEvseRow)
            .where(ChargingEvseRow.station_id == station_id)
            .where(ChargingEvseRow.transaction_id == transaction_id)
        )
        return "session ended" if getattr(result, "rowcount", 0) else ""

    async def _connectivity(self, session: AsyncSession, envelope: Envelope, now: datetime) -> str:
        row = await session.get(StationStateRow, envelope.station_id)
        if row is None:
            row = StationStateRow(station_id=envelope.station_id, online=False, ocpp_version="")
            session.add(row)
        row.updated_at = now
        if envelope.type == DISCONNECTED:
            row.online = False
            return "station offline"
        row.online = True
        if envelope.type == CONNECTED:
            connected = unpack(envelope, st.StationConnected)
            row.ocpp_version = VERSIONS.get(connected.ocpp_version, row.ocpp_version)
            return "station online"
        booted = unpack(envelope, st.StationBooted)
        row.ocpp_version = VERSIONS.get(booted.ocpp_version, row.ocpp_version)
        row.booted_at = now
        if hasattr(self.directory, "forget_station"):
            self.directory.forget_station(envelope.station_id)
        return "station booted"

    async def _charging_needs(
        self, session: AsyncSession, station_id: str, payload_json: str, now: datetime
    ) -> str:
        try:
            payload = orjson.loads(payload_json)
            evse_id = int(payload["evseId"])
            needs = payload.get("chargingNeeds") or {}
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("undecodable NotifyEVChargingNeeds", station_id=station_id)
            return ""
        row = (
            await session.scalars(
                select(ChargingEvseRow)
                .where(ChargingEvseRow.station_id == station_id)
                .where(ChargingEvseRow.evse_id == evse_id)
            )
        ).first()
        if row is None:
            return ""
        ac = needs.get("acChargingParameters") or {}
        departure = _parse_time(needs.get("departureTime"))
        row.departure_at = departure or row.departure_at
        if ac.get("energyAmount") is not None:
            row.energy_needed_wh = max(0.0, float(ac["energyAmount"]))
            # Needed from here on: what the register shows now is not to be subtracted.
            row.needs_register_wh = row.energy_register_wh
        if ac.get("evMaxCurrent") is not None:
            row.ev_max_current_a = max(0.0, float(ac["evMaxCurrent"]))
        row.updated_at = now
        return "charging needs"
