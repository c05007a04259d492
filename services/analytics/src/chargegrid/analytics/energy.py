"""Energy ingest: transaction events -> register readings -> 15-minute window energy.

A batch of events is claimed by id in the transaction that writes what they contribute, so
a re-delivered or replayed event changes nothing. Readings are kept; for each transaction
in the batch the stored chain around the new readings is read (the reading before, those
in between, the one after), and the windows gain the difference between the chain's energy
with and without the new readings. Whatever order the readings arrive in (late, out of
order, resent under a new event id), the windows end up holding the energy of the whole
ordered chain, the same as one computation over all readings. Transactions whose new
readings all follow what they stored (the usual MeterValues) need only their stored tail,
read for the whole batch in one statement (`tails`), and their readings go in one insert.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.analytics.models import (
    EnergyDayRow,
    EnergyHourRow,
    EnergyWindowRow,
    MeterReadingRow,
)
from chargegrid.analytics.readings import (
    Reading,
    WindowKey,
    ended_readings,
    energy_change,
    started_readings,
    updated_readings,
)
from chargegrid.analytics.rollups import Rollups
from chargegrid.analytics.sites import SiteInfo, SiteLookup
from chargegrid.analytics.tails import follows, stored_tails
from chargegrid.analytics.upsert import add_to, insert_new
from chargegrid.analytics.windows import local_labels
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.platform.bus import Delivered, claim_events, unpack

CONSUMER_NAME = "analytics.energy"
STARTED, UPDATED, ENDED = "transaction.started", "transaction.updated", "transaction.ended"
HANDLED = frozenset({STARTED, UPDATED, ENDED})

READINGS = MeterReadingRow.__table__
WINDOWS = EnergyWindowRow.__table__
HOURS = EnergyHourRow.__table__
DAYS = EnergyDayRow.__table__


def readings_of(envelope: Envelope) -> list[Reading]:
    """The register readings an event carries; UndecodableEvent if its payload is not the
    type its envelope says (it goes to the dead-letter topic)."""
    if envelope.type == STARTED:
        return started_readings(unpack(envelope, tx.TransactionStarted))
    if envelope.type == UPDATED:
        return updated_readings(unpack(envelope, tx.TransactionUpdated))
    return ended_readings(unpack(envelope, tx.TransactionEnded))


async def _stored_chain(
    session: AsyncSession, station_id: str, transaction_id: str, first: datetime, last: datetime
) -> list[Reading]:
    """The stored readings from the one before `first` to the one after `last`, in order."""
    row = MeterReadingRow
    same = and_(row.station_id == station_id, row.transaction_id == transaction_id)
    before = select(row).where(same, row.at < first).order_by(row.at.desc(), row.rank.desc())
    after = select(row).where(same, row.at > last).order_by(row.at, row.rank)
    between = select(row).where(same, row.at >= first, row.at <= last)
    found = list((await session.scalars(before.limit(1))).all())
    found += (await session.scalars(between)).all()
    found += (await session.scalars(after.limit(1))).all()
    chain = [Reading(r.transaction_id, r.evse_id, r.at, r.rank, r.wh) for r in found]
    return sorted(chain, key=lambda r: r.order)


def reading_rows(station_id: str, readings: Sequence[Reading]) -> list[dict[str, Any]]:
    return [
        {
            "station_id": station_id,
            "transaction_id": r.transaction_id,
            "at": r.at,
            "rank": r.rank,
            "evse_id": r.evse_id,
            "wh": r.wh,
        }
        for r in readings
    ]


def fresh_change(
    existing: Sequence[Reading], new: Sequence[Reading]
) -> tuple[list[Reading], dict[WindowKey, float]]:
    """The readings of `new` not in the stored chain `existing`, and the energy they add."""
    known = {r.order for r in existing}
    fresh: dict[tuple[datetime, int], Reading] = {}
    for reading in new:
        if reading.order not in known:
            fresh.setdefault(reading.order, reading)
    if not fresh:
        return [], {}
    merged = sorted([*existing, *fresh.values()], key=lambda r: r.order)
    return list(fresh.values()), energy_change(existing, merged)


async def add_readings(
    session: AsyncSession, station_id: str, new: Sequence[Reading]
) -> dict[WindowKey, float]:
    """Store the readings of one transaction not stored yet; the window energy they add."""
    if not new:
        return {}
    first = min(r.at for r in new)
    last = max(r.at for r in new)
    existing = await _stored_chain(session, station_id, new[0].transaction_id, first, last)
    fresh, change = fresh_change(existing, new)
    await insert_new(session, READINGS, reading_rows(station_id, fresh))
    return change


@dataclass
class Rows:
    """What a batch adds, keyed by primary key: one row per key and statement."""

    windows: dict[tuple[str, int, int], dict[str, Any]] = field(default_factory=dict)
    hours: dict[tuple[str, int, int], dict[str, Any]] = field(default_factory=dict)
    days: dict[tuple[str, int, int], dict[str, Any]] = field(default_factory=dict)
    rollups: Rollups = field(default_factory=Rollups)

    def add(self, station_id: str, site: SiteInfo, change: dict[WindowKey, float]) -> None:
        for (evse_id, start), wh in change.items():
            labels = local_labels(start, site.timezone)
            common = {"station_id": station_id, "evse_id": evse_id, "site_id": site.site_id}
            window = int(start.timestamp())
            hour = int(labels.hour_start.timestamp())
            day = int(labels.day_start.timestamp())
            self.rollups.add(site.site_id, window, labels, wh)
            _add(
                self.windows,
                (station_id, evse_id, window),
                wh,
                common,
                window_start=window,
                label_quarter=labels.quarter,
                label_hour=labels.hour,
                label_day=labels.day,
                label_month=labels.month,
            )
            _add(
                self.hours,
                (station_id, evse_id, hour),
                wh,
                common,
                hour_start=hour,
                label_hour=labels.hour,
            )
            _add(
                self.days,
                (station_id, evse_id, day),
                wh,
                common,
                day_start=day,
                label_day=labels.day,
                label_month=labels.month,
            )

    async def write(self, session: AsyncSession) -> None:
        for table, rows, bucket in (
            (WINDOWS, self.windows, "window_start"),
            (HOURS, self.hours, "hour_start"),
            (DAYS, self.days, "day_start"),
        ):
            await add_to(
                session, table, list(rows.values()), ["station_id", "evse_id", bucket], ["wh"]
            )
        await self.rollups.write(session)


def _add(
    rows: dict[tuple[str, int, int], dict[str, Any]],
    key: tuple[str, int, int],
    wh: float,
    common: dict[str, Any],
    **columns: Any,
) -> None:
    found = rows.get(key)
    if found is None:
        rows[key] = {**common, **columns, "wh": wh}
    else:
        found["wh"] += wh


class EnergyIngest:
    """The batch handler of transaction.events.v1."""

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
        decoded = [
            (envelope, readings_of(envelope)) for envelope, _ in batch if envelope.type in HANDLED
        ]
        stations = {envelope.station_id for envelope, _ in decoded}
        sites = {station: await self.sites(station) for station in stations}
        async with self.sessions() as session, session.begin():
            ids = [envelope.event_id for envelope, _ in decoded]
            fresh = await claim_events(session, CONSUMER_NAME, ids, self.clock())
            grouped: dict[tuple[str, str], list[Reading]] = defaultdict(list)
            for envelope, readings in decoded:
                if envelope.event_id not in fresh:
                    continue
                fresh.discard(envelope.event_id)  # the same id twice in one batch counts once
                for reading in readings:
                    grouped[(envelope.station_id, reading.transaction_id)].append(reading)
            tails = await stored_tails(session, grouped.keys())
            rows, in_order = Rows(), []
            for (station_id, transaction_id), readings in grouped.items():
                tail = tails.get((station_id, transaction_id), [])
                if follows(tail, readings):
                    stored, change = fresh_change(tail, readings)
                    in_order += reading_rows(station_id, stored)
                else:
                    change = await add_readings(session, station_id, readings)
                rows.add(station_id, sites[station_id], change)
            await insert_new(session, READINGS, in_order)
            await rows.write(session)
