"""State-change ingest: station and transaction events -> one `state_changes` row each.

What utilization, uptime and the AFIR status need is when each connector changed state:
the station's link (connected / disconnected), its status notifications, whether an open
transaction is drawing energy (2.x charging state) and the register at each transaction's
start and end (a transaction that ended with no energy is a "no energy flow" outage). The
row's key is the event id, so a re-delivered event is one row; nothing is aggregated at
ingest, so an event that arrives late lands at its own instant and the next query sees it
(docs/adr/016-utilization-and-uptime-from-state-changes.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import BigInteger, bindparam, case
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.analytics.models import StateChangeRow, StateStationRow
from chargegrid.analytics.sites import SiteLookup
from chargegrid.analytics.upsert import dialect_insert, insert_new
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1 import events_pb2 as st
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.platform.bus import Delivered, unpack

CONNECTED, DISCONNECTED = "station.connected", "station.disconnected"
STATUS_CHANGED = "station.status_changed"
STARTED, UPDATED, ENDED = "transaction.started", "transaction.updated", "transaction.ended"
STATION_HANDLED = frozenset({CONNECTED, DISCONNECTED, STATUS_CHANGED})
TRANSACTION_HANDLED = frozenset({STARTED, UPDATED, ENDED})

LINK, STATUS, CHARGE, TX = "link", "status", "charge", "tx"
ONLINE, OFFLINE = "online", "offline"
#: Connector statuses as stored (1.6 ChargePointStatus and 2.x ConnectorStatus in one set).
STATUS_NAMES = {
    st.CONNECTOR_STATUS_AVAILABLE: "Available",
    st.CONNECTOR_STATUS_PREPARING: "Preparing",
    st.CONNECTOR_STATUS_CHARGING: "Charging",
    st.CONNECTOR_STATUS_SUSPENDED_EV: "SuspendedEV",
    st.CONNECTOR_STATUS_SUSPENDED_EVSE: "SuspendedEVSE",
    st.CONNECTOR_STATUS_FINISHING: "Finishing",
    st.CONNECTOR_STATUS_RESERVED: "Reserved",
    st.CONNECTOR_STATUS_UNAVAILABLE: "Unavailable",
    st.CONNECTOR_STATUS_FAULTED: "Faulted",
    st.CONNECTOR_STATUS_OCCUPIED: "Occupied",
}
CHARGING, IDLE = "charging", "idle"
TX_START, TX_END = "start", "end"


@dataclass(frozen=True, slots=True)
class Change:
    evse_id: int
    at: datetime
    signal: str
    value: str
    transaction_id: str = ""
    wh: float | None = None


def _at(envelope: Envelope, stamp: Timestamp | None = None) -> datetime:
    """The payload's own time when it has one (a station offline reports it later), else
    when the event occurred."""
    if stamp is not None and stamp.ByteSize():
        return stamp.ToDatetime(tzinfo=UTC)
    return envelope.occurred_at.ToDatetime(tzinfo=UTC)


def change_of(envelope: Envelope) -> Change | None:
    """The state change an event records, None if it records none; UndecodableEvent when
    the payload is not the type the envelope names (it goes to the dead-letter topic)."""
    kind = envelope.type
    if kind == CONNECTED:
        unpack(envelope, st.StationConnected)
        return Change(0, _at(envelope), LINK, ONLINE)
    if kind == DISCONNECTED:
        unpack(envelope, st.StationDisconnected)
        return Change(0, _at(envelope), LINK, OFFLINE)
    if kind == STATUS_CHANGED:
        status = unpack(envelope, st.StatusChanged)
        name = STATUS_NAMES.get(status.status)
        return None if name is None else Change(status.evse_id, _at(envelope), STATUS, name)
    if kind == STARTED:
        started = unpack(envelope, tx.TransactionStarted)
        wh = started.meter_start_wh if started.HasField("meter_start_wh") else None
        at = _at(envelope, started.started_at)
        return Change(started.evse_id, at, TX, TX_START, started.transaction_id, wh)
    if kind == UPDATED:
        updated = unpack(envelope, tx.TransactionUpdated)
        if not updated.charging_state:
            return None
        value = CHARGING if updated.charging_state == "Charging" else IDLE
        at = _at(envelope, updated.timestamp)
        return Change(updated.evse_id, at, CHARGE, value, updated.transaction_id)
    if kind == ENDED:
        ended = unpack(envelope, tx.TransactionEnded)
        wh = ended.meter_stop_wh if ended.HasField("meter_stop_wh") else None
        at = _at(envelope, ended.ended_at)
        return Change(ended.evse_id, at, TX, TX_END, ended.transaction_id, wh)
    return None


class StateChangeIngest:
    """The batch handler of station.events.v1 (and, beside the energy ingest, of
    transaction.events.v1): one row per event that changes a state."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], sites: SiteLookup) -> None:
        self.sessions = sessions
        self.sites = sites

    async def __call__(self, batch: Sequence[Delivered]) -> None:
        rows: dict[str, dict[str, object]] = {}
        for envelope, _ in batch:
            change = change_of(envelope)
            if change is None or envelope.event_id in rows:
                continue
            site = await self.sites(envelope.station_id)
            rows[envelope.event_id] = {
                "event_id": envelope.event_id,
                "station_id": envelope.station_id,
                "evse_id": change.evse_id,
                "site_id": site.site_id,
                "timezone": site.timezone,
                "at_ms": int(change.at.timestamp() * 1000),
                "signal": change.signal,
                "value": change.value,
                "transaction_id": change.transaction_id,
                "wh": change.wh,
            }
        if not rows:
            return
        async with self.sessions() as session, session.begin():
            await insert_new(session, StateChangeRow.__table__, list(rows.values()))
            await invalidate(session, rows.values())


async def invalidate(session: AsyncSession, rows: Iterable[dict[str, object]]) -> None:
    """Each station's cached utilization days stay exact only up to its earliest new change."""
    earliest: dict[str, dict[str, object]] = {}
    for row in rows:
        found = earliest.get(str(row["station_id"]))
        if found is None or int(row["at_ms"]) < int(found["at_ms"]):  # type: ignore[call-overload]
            earliest[str(row["station_id"])] = row
    if not earliest:
        return
    table = StateStationRow.__table__
    at = bindparam("p_at", type_=BigInteger)
    statement = dialect_insert(session, table).values(
        station_id=bindparam("p_station"),
        site_id=bindparam("p_site"),
        timezone=bindparam("p_timezone"),
        valid_until_ms=0,
    )
    statement = statement.on_conflict_do_update(
        index_elements=["station_id"],
        set_={
            "valid_until_ms": case((table.c.valid_until_ms > at, at), else_=table.c.valid_until_ms),
            "site_id": statement.excluded.site_id,
            "timezone": statement.excluded.timezone,
        },
    )
    # One statement for the whole batch (executemany), not a round trip per station.
    params = [
        {
            "p_station": station,
            "p_site": row["site_id"],
            "p_timezone": row["timezone"],
            "p_at": int(row["at_ms"]),  # type: ignore[call-overload]
        }
        for station, row in sorted(earliest.items())
    ]
    await session.execute(statement, params)
