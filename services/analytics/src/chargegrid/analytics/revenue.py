"""Revenue ingest: billing.events.v1 CDRs -> one row per CDR, summed when queried.

A CDR carries its site, its time zone and its cost, so no lookup is needed: the row keeps
the local day and month of the session start and the amounts in millionths of the currency
unit, so sums are exact. The CDR id is the row's key and the event id is claimed in the same
transaction, so a CDR delivered twice (or republished under a new event id) counts once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.analytics.models import RevenueRow
from chargegrid.analytics.upsert import insert_new
from chargegrid.analytics.windows import local_labels
from chargegrid.api.billing.v1 import billing_pb2 as billing
from chargegrid.platform.bus import Delivered, UndecodableEvent, claim_events, unpack

CONSUMER_NAME = "analytics.revenue"
CDR_CREATED = "cdr.created"
HANDLED = frozenset({CDR_CREATED})
MICROS = Decimal(1_000_000)


def micros(amount: str, field: str) -> int:
    try:
        value = Decimal(amount or "0")
    except InvalidOperation:
        raise UndecodableEvent(f"CDR {field} {amount!r} is not a decimal") from None
    if not value.is_finite():
        raise UndecodableEvent(f"CDR {field} {amount!r} is not a finite amount")
    return int((value * MICROS).to_integral_value())


def kwh_to_wh(energy_kwh: str) -> float:
    try:
        value = Decimal(energy_kwh or "0")
    except InvalidOperation:
        raise UndecodableEvent(f"CDR energy_kwh {energy_kwh!r} is not a decimal") from None
    return float(value * 1000)


def revenue_row(cdr: billing.Cdr) -> dict[str, object]:
    if not cdr.id or not cdr.HasField("started_at"):
        raise UndecodableEvent("a CDR without an id or a start")
    started = cdr.started_at.ToDatetime(tzinfo=UTC)
    labels = local_labels(started, cdr.timezone)
    return {
        "cdr_id": cdr.id,
        "station_id": cdr.station_id,
        "site_id": cdr.site_id,
        "started_at": int(started.timestamp()),
        "label_day": labels.day,
        "label_month": labels.month,
        "tariff_id": cdr.cost.tariff_id,
        "currency": cdr.cost.currency,
        "excl_vat_micros": micros(cdr.cost.total_excl_vat, "total_excl_vat"),
        "incl_vat_micros": micros(cdr.cost.total_incl_vat, "total_incl_vat"),
        "energy_wh": kwh_to_wh(cdr.energy_kwh),
    }


class RevenueIngest:
    """The batch handler of billing.events.v1."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]
    ) -> None:
        self.sessions = sessions
        self.clock = clock

    async def __call__(self, batch: Sequence[Delivered]) -> None:
        decoded = [
            (envelope.event_id, revenue_row(unpack(envelope, billing.CdrCreated).cdr))
            for envelope, _ in batch
        ]
        async with self.sessions() as session, session.begin():
            fresh = await claim_events(
                session, CONSUMER_NAME, [event_id for event_id, _ in decoded], self.clock()
            )
            rows: dict[object, dict[str, object]] = {}
            for event_id, row in decoded:
                if event_id in fresh:
                    rows.setdefault(row["cdr_id"], row)
            await insert_new(session, RevenueRow.__table__, list(rows.values()))
