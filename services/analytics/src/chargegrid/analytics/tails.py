"""The newest stored readings of a batch's transactions, read in one query.

Readings mostly arrive in order: a MeterValues event adds readings after every reading its
transaction has stored. Then the stored chain that matters is only its tail (the readings
at the newest stored instant), and one statement reads the tails of every transaction in
the batch instead of three per transaction. A transaction whose new readings reach back to
or before its tail (late, out of order, a replay) is not "in order" and takes the full
chain lookup in `energy`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.analytics.models import MeterReadingRow
from chargegrid.analytics.readings import Reading

R = MeterReadingRow
ChainKey = tuple[str, str]  # (station id, transaction id)
#: Keys per statement: well inside SQLite's and asyncpg's bound-parameter limits.
CHUNK = 500


async def stored_tails(
    session: AsyncSession, keys: Collection[ChainKey]
) -> dict[ChainKey, list[Reading]]:
    """Per transaction, its stored readings at its newest instant (absent: none stored)."""
    tails: dict[ChainKey, list[Reading]] = defaultdict(list)
    ordered = sorted(keys)
    for i in range(0, len(ordered), CHUNK):
        chunk = ordered[i : i + CHUNK]
        newest = (
            select(R.station_id, R.transaction_id, func.max(R.at))
            .where(tuple_(R.station_id, R.transaction_id).in_(chunk))
            .group_by(R.station_id, R.transaction_id)
        )
        statement = select(R.station_id, R.transaction_id, R.at, R.rank, R.evse_id, R.wh).where(
            tuple_(R.station_id, R.transaction_id, R.at).in_(newest)
        )
        for station_id, transaction_id, at, rank, evse_id, wh in await session.execute(statement):
            tails[(station_id, transaction_id)].append(
                Reading(transaction_id, evse_id, at, rank, wh)
            )
    return {key: sorted(found, key=lambda r: r.rank) for key, found in tails.items()}


def follows(tail: list[Reading], readings: Sequence[Reading]) -> bool:
    """True when each of `readings` comes after the stored tail or repeats one of it.

    Then the tail (every stored reading at the newest instant, in order) is all the stored
    chain the readings touch. A repeat of the tail's instant (a station sending the same
    second twice, a retry) stays on this path: it is dropped as already stored, with no query.
    """
    if not tail:
        return True
    last = tail[-1].order
    known = {r.order for r in tail}
    return all(r.order > last or r.order in known for r in readings)
