"""Roaming's migration 0003 on both engines: token uids become case-insensitive keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from chargegrid.platform.db import create_engine
from chargegrid.platform.migrations import upgrade
from chargegrid.roaming.app import MIGRATIONS

INSERT = text(
    "INSERT INTO partner_tokens (country_code, party_id, uid, type, partner_id, valid,"
    " whitelist, body, last_updated) VALUES ('NL', 'EMS', :uid, 'RFID', 'emsp1', :valid,"
    " 'ALLOWED', '{}', :at)"
)


async def test_tokens_differing_only_in_case_become_the_newest_upper_cased(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, MIGRATIONS, "0002")
        now = datetime(2026, 12, 7, tzinfo=UTC)
        async with engine.begin() as db:
            await db.execute(INSERT, {"uid": "abc", "valid": False, "at": now})
            await db.execute(INSERT, {"uid": "ABC", "valid": True, "at": now + timedelta(1)})
            await db.execute(INSERT, {"uid": "xyz", "valid": True, "at": now})
        await upgrade(engine, MIGRATIONS)
        async with engine.connect() as db:
            rows = (await db.execute(text("SELECT uid, valid FROM partner_tokens"))).all()
        assert sorted((uid, bool(valid)) for uid, valid in rows) == [("ABC", True), ("XYZ", True)]
    finally:
        await engine.dispose()
