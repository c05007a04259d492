"""Bulk statements at the driver's speed: compiled once per dialect, rows as tuples.

Handing SQLAlchemy a list of dicts costs a parameter-processing pass per row and a new
compilation of the expanded statement; for a batch's hundreds of station and connector rows
that is most of the work. `DriverStatement` compiles its Core statement once per dialect,
orders each row's values as the compiled SQL expects and converts them with the bind
processors of their own types (so times are stored exactly as the ORM stores them), then
calls the driver's executemany inside the session's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

Convert = Callable[[Any], Any]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    converters: tuple[Convert | None, ...]
    #: Values the statement itself carries (literals such as `column != ""`), converted.
    constants: Mapping[str, Any]

    def row(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        constants = self.constants
        return tuple(
            constants[name]
            if name in constants
            else values[name]
            if convert is None
            else convert(values[name])
            for name, convert in zip(self.names, self.converters, strict=True)
        )


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    names = tuple(compiled.positiontup or ())
    if not names or compiled.literal_execute_params or compiled.post_compile_params:
        raise ValueError("a driver statement needs plain positional parameters")
    converters: list[Convert | None] = []
    constants: dict[str, Any] = {}
    for name in names:
        bind = compiled.binds[name]
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        converters.append(convert)
        if not bind.required:
            constants[name] = bind.value if convert is None else convert(bind.value)
    return _Compiled(str(compiled), names, tuple(converters), constants)


class DriverStatement:
    """One bulk statement, built per dialect name by `build` (insert flavours differ)."""

    def __init__(self, build: Callable[[str], ClauseElement]) -> None:
        self.build = build
        self._compiled: dict[str, _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = _compile(self.build(dialect.name), dialect)
        return found

    async def executemany(self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> None:
        if not rows:
            return
        connection = await session.connection()
        compiled = self.compiled(connection.dialect)
        await connection.exec_driver_sql(compiled.sql, [compiled.row(r) for r in rows])
