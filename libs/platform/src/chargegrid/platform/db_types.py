"""Column types every service's models share.

SQLite keeps no time zone and compares datetimes as text, PostgreSQL keeps `timestamptz`:
one type stores the same instant the same way on both, so ranges and ordering agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Dialect, TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, whatever the database keeps.

    On SQLite the value is stored naive in UTC (one fixed text form); a naive datetime given
    to it is taken as UTC unless `naive_is_utc` is False, where it is refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True
    naive_is_utc: ClassVar[bool] = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            if not self.naive_is_utc:
                raise ValueError("naive datetime given to a UTC column")
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
