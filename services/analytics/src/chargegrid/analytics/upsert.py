"""Additive upserts: a window row gains what an event contributes, whoever wrote it first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


async def add_to(
    session: AsyncSession,
    table: Any,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    added: Sequence[str],
) -> None:
    """Insert `rows`; where a row with the same `keys` exists, add the `added` columns to it."""
    if not rows:
        return
    statement = _insert(session, table)
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={name: table.c[name] + statement.excluded[name] for name in added},
    )
    await session.execute(statement, list(rows))


async def insert_new(session: AsyncSession, table: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows`, skipping those whose primary key is already there."""
    if rows:
        await session.execute(_insert(session, table).on_conflict_do_nothing(), list(rows))


#: The INSERT of the session's dialect (for upserts with their own conflict clause).
dialect_insert = _insert
