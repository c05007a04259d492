"""Meter samples into the database at the driver's speed: one executemany per batch.

A MeterValues event carries ten or more samples, so per-row work dominates a batch. The
statement is compiled once per dialect and the rows go to the driver's executemany as
tuples; the one column that needs conversion (the time) goes through SQLAlchemy's own bind
processor of its type, once per distinct instant (the samples of a meter value share one).
A reading already stored (same session, instant, measurand, phase, location) is kept as
first received: ON CONFLICT DO NOTHING.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Dialect, Table, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.session.models import SampleRow

COLUMNS = ("session_id", "timestamp", "measurand", "phase", "unit", "value", "context", "location")
SampleValues = tuple[str, datetime, str, str, str, float, str, str]


class SampleInsert:
    """The compiled INSERT of one dialect and the processor of its time column."""

    def __init__(self, dialect: Dialect) -> None:
        table = cast(Table, SampleRow.__table__)
        insert = pg_insert if dialect.name == "postgresql" else sqlite_insert
        # inline(): no RETURNING of the new ids, which nobody reads.
        statement = insert(table).inline().values({name: bindparam(name) for name in COLUMNS})
        compiled = statement.on_conflict_do_nothing().compile(dialect=dialect)
        order = compiled.positiontup or []
        if sorted(order) != sorted(COLUMNS):
            raise RuntimeError(f"unexpected parameters in the sample insert: {order}")
        self.sql = str(compiled)
        positions = [COLUMNS.index(name) for name in order]
        self._positions = None if positions == list(range(len(COLUMNS))) else positions
        time_type = table.c.timestamp.type.dialect_impl(dialect)  # as execution resolves it
        processor: Callable[[Any], Any] | None = time_type.bind_processor(dialect)
        self._time = processor or (lambda value: value)

    async def run(self, db: AsyncSession, rows: Sequence[SampleValues]) -> None:
        if not rows:
            return
        times: dict[datetime, Any] = {}
        convert, positions = self._time, self._positions
        prepared = []
        for row in rows:
            at = row[1]
            stored = times.get(at)
            if stored is None:
                stored = times[at] = convert(at)
            values = (row[0], stored, *row[2:])
            prepared.append(values if positions is None else tuple(values[i] for i in positions))
        connection = await db.connection()
        await connection.exec_driver_sql(self.sql, prepared)


_BY_DIALECT: dict[str, SampleInsert] = {}


def sample_insert(dialect: Dialect) -> SampleInsert:
    found = _BY_DIALECT.get(dialect.name)
    if found is None:
        found = _BY_DIALECT[dialect.name] = SampleInsert(dialect)
    return found
