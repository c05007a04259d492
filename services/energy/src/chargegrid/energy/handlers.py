"""What the energy service takes from Kafka, applied a partition's batch at a time.

transaction.events.v1 opens, measures and closes charging EVSEs; session.events.v1's
closed sessions also close them (the session sweeper ends transactions a station lost);
station.events.v1 gives connectivity, boots (which earn the station its default profile)
and 2.x NotifyEVChargingNeeds (kept whole by the gateway as a notification). Each event id
is claimed in the same database transaction as its changes, so a re-delivered batch changes
nothing. A batch costs a few statements, not a few per event: what is charging and who is
online live in memory (`live.LiveState`, loaded from the database at start) and only the
touched stations' rows are written back. After the commit the controllers are told which
stations changed and why; a measured draw that moved by less than `MOVED_A` wakes nobody,
except once every `MEASURED_REFRESH_S` (a steady draw still refreshes its site).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as ses
from chargegrid.api.station.v1 import events_pb2 as st
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.energy import meter
from chargegrid.energy.directory import VERSIONS, Directory, DirectoryUnavailable, TokenGroups
from chargegrid.energy.live import ChargingEvse, LiveState, Pending, StationState
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
#: A measured current that moved by at least this much (any phase) wakes the controller.
MOVED_A = 1.0
#: A steady measured draw still wakes its site this often (seconds, monotonic).
MEASURED_REFRESH_S = 5.0
#: How long a token's group (asked of the authorization service) is reused.
GROUP_TTL_S = 60.0

#: (station id, trigger) for every station whose allocation inputs changed.
Changes = list[tuple[str, str]]
Notify = Callable[[Changes], Awaitable[None]]
#: Measured current per station phase (None = the meter said nothing about it).
Measured = tuple[float | None, float | None, float | None]
#: A batch's wake-ups: (station, evse) -> the draw and monotonic time the controller was told
#: of (None: the transaction ended).
Woken = dict[tuple[str, int], tuple[Measured, float] | None]

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
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.directory = directory
        self.groups = groups
        self.notify = notify
        self.monotonic = monotonic
        self.live = LiveState()
        #: (station, evse) -> (measured currents, monotonic time) of its last wake-up.
        self._woken: dict[tuple[str, int], tuple[Measured, float]] = {}
        self._group_cache: dict[str, tuple[str, float]] = {}
        #: (station, evse, connector) -> its last status.
        self._statuses: dict[tuple[str, int, int], int] = {}

    async def load(self) -> None:
        """Read the durable copy of the live state (at start; the first batch does it too)."""
        async with self.sessions() as session:
            await self.live.load(session)

    async def batch(self, items: Sequence[Delivered]) -> None:
        wanted = [e for e, _ in items if e.station_id and e.type in EVENT_TYPES]
        if not wanted:
            return
        # Statuses change nothing stored: they are neither claimed nor need a transaction.
        stored = [e for e in wanted if e.type != STATUS]
        changes: Changes = []
        if stored:
            changes = await self._store(stored)
        statuses = (e for e in wanted if e.type == STATUS)
        changes += [(e.station_id, "status changed") for e in statuses if self._status_moved(e)]
        if changes:
            await self.notify(list(dict.fromkeys(changes)))

    async def _store(self, wanted: list[Envelope]) -> Changes:
        """Apply the events that change what is stored, in one transaction."""
        if not self.live.loaded:
            await self.load()
        opening = {e.station_id for e in wanted if e.type in (STARTED, UPDATED)}
        sites = await self._sites(opening)
        groups = await self._groups(wanted)
        now = self.clock()
        pending = Pending(self.live)
        woken: dict[tuple[str, int], tuple[Measured, float] | None] = {}
        changes: Changes = []
        async with self.sessions() as session, session.begin():
            fresh = await claim_events(session, CONSUMER_NAME, [e.event_id for e in wanted], now)
            for envelope in wanted:
                if envelope.event_id not in fresh:
                    continue
                fresh.discard(envelope.event_id)  # a batch may carry an id twice
                trigger = self._apply(pending, woken, envelope, sites, groups, now)
                if trigger:
                    changes.append((envelope.station_id, trigger))
            await pending.write(session)
        self.live.commit(pending)
        for key, last in woken.items():
            if last is None:
                self._woken.pop(key, None)
            else:
                self._woken[key] = last
        return changes

    def _status_moved(self, envelope: Envelope) -> bool:
        """True when the connector's status differs from the one last seen (in memory only:
        after a restart the first status of each connector wakes its site once)."""
        changed = unpack(envelope, st.StatusChanged)
        key = (envelope.station_id, changed.evse_id, changed.connector_id)
        before = self._statuses.get(key)
        self._statuses[key] = changed.status
        return before != changed.status

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
        return {token: await self._group_of(token) for token in tokens if token}

    async def _group_of(self, token: str) -> str:
        """The token's group, asked again only after GROUP_TTL_S."""
        now = self.monotonic()
        cached = self._group_cache.get(token)
        if cached is not None and now - cached[1] < GROUP_TTL_S:
            return cached[0]
        group = await self.groups.group_of(token)
        if len(self._group_cache) > 100_000:
            self._group_cache.clear()
        self._group_cache[token] = (group, now)
        return group

    def _apply(
        self,
        pending: Pending,
        woken: Woken,
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
            opened = self._open(
                pending,
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
            if opened is not None:
                self._remember_draw(woken, opened)
            return "session started"
        if kind == UPDATED:
            updated = unpack(envelope, tx.TransactionUpdated)
            evse = self._open(
                pending,
                station_id,
                updated.evse_id or updated.connector_id,
                updated.transaction_id,
                sites.get(station_id, ""),
                now,
                now,
                samples=updated.samples,
            )
            return self._draw_trigger(woken, evse)
        if kind == ENDED:
            ended = unpack(envelope, tx.TransactionEnded)
            return self._close(pending, woken, station_id, ended.transaction_id)
        if kind == SESSION_CLOSED:
            closed = unpack(envelope, ses.SessionClosed).session
            return self._close(pending, woken, station_id, closed.transaction_id)
        if kind in (CONNECTED, DISCONNECTED, BOOTED):
            return self._connectivity(pending, envelope, now)
        if kind == NOTIFICATION:
            note = unpack(envelope, st.NotificationReceived)
            if note.action == CHARGING_NEEDS:
                return self._charging_needs(pending, station_id, note.payload_json, now)
        return ""

    @staticmethod
    def _measured(evse: ChargingEvse) -> Measured:
        return (evse.measured_l1_a, evse.measured_l2_a, evse.measured_l3_a)

    def _remember_draw(self, woken: Woken, evse: ChargingEvse) -> None:
        woken[(evse.station_id, evse.evse_id)] = (self._measured(evse), self.monotonic())

    def _draw_trigger(self, woken: Woken, evse: ChargingEvse | None) -> str:
        """ "meter values" when the draw moved by MOVED_A since the controller last heard of
        it, or when MEASURED_REFRESH_S passed; "" otherwise (no wake-up, no profile churn)."""
        if evse is None:
            return ""
        key = (evse.station_id, evse.evse_id)
        last = woken[key] if key in woken else self._woken.get(key)
        measured = self._measured(evse)
        if last is not None:
            before, at = last
            if not _moved(before, measured) and self.monotonic() - at < MEASURED_REFRESH_S:
                return ""
        self._remember_draw(woken, evse)
        return "meter values"

    @staticmethod
    def _open(
        pending: Pending,
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
    ) -> ChargingEvse | None:
        """The EVSE charging `transaction_id`, opened if needed, with its new draw."""
        if not transaction_id:
            return None
        current = pending.peek(station_id)
        # 2.x updates may leave out the EVSE: the transaction id finds it.
        found = next((e for e in current.values() if e.transaction_id == transaction_id), None)
        if found is None and not evse_id:
            return None  # nothing says where it charges; its start or a later update will
        evses = pending.evses(station_id)
        row = evses.get(found.evse_id if found else evse_id)
        if row is not None and row.transaction_id != transaction_id:
            # A new transaction on the EVSE: the old one ended without our hearing of it.
            row = None
        if row is None:
            # An update first (the start was before this service existed) opens it too;
            # events of a station arrive in order, so no update follows its end.
            row = ChargingEvse(
                station_id=station_id,
                evse_id=evse_id,
                site_id=site_id,
                transaction_id=transaction_id,
                id_token=token,
                group_id=group,
                started_at=started_at,
                updated_at=now,
            )
            evses[evse_id] = row
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
        return row

    @staticmethod
    def _close(pending: Pending, woken: Woken, station_id: str, transaction_id: str) -> str:
        current = pending.peek(station_id)
        ended = [k for k, e in current.items() if e.transaction_id == transaction_id]
        if not ended:
            return ""
        evses = pending.evses(station_id)
        for evse_id in ended:
            del evses[evse_id]
            woken[(station_id, evse_id)] = None
        return "session ended"

    def _connectivity(self, pending: Pending, envelope: Envelope, now: datetime) -> str:
        row = pending.state(envelope.station_id)
        if row is None:
            row = StationState(envelope.station_id, online=False, ocpp_version="", updated_at=now)
            pending.add_state(row)
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

    @staticmethod
    def _charging_needs(pending: Pending, station_id: str, payload_json: str, now: datetime) -> str:
        try:
            payload = orjson.loads(payload_json)
            evse_id = int(payload["evseId"])
            needs = payload.get("chargingNeeds") or {}
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.warning("undecodable NotifyEVChargingNeeds", station_id=station_id)
            return ""
        if evse_id not in pending.peek(station_id):
            return ""
        row = pending.evses(station_id)[evse_id]
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


def _moved(before: Measured, after: Measured) -> bool:
    """True when any phase's draw changed by MOVED_A or more (or became known/unknown)."""
    for old, new in zip(before, after, strict=True):
        if (old is None) != (new is None):
            return True
        if old is not None and new is not None and abs(new - old) >= MOVED_A:
            return True
    return False
