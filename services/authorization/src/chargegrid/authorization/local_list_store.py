"""Local authorization lists, their members and what each station was last sent, stored.

A list belongs to a scope (one station or one site) and carries a version that goes up on
every change of its members or of a token on it. A station's sync row remembers the last
push (version, kind, answer) and, separately, the entries the station confirmed, which are
what a differential update is computed against.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.authorization.domain import LocalEntry, Scope, SyncRecord, TokenKey
from chargegrid.authorization.models import local_list_entries, local_list_syncs, local_lists

_KEY_CHUNK = 400


def _entries_to_json(entries: dict[TokenKey, LocalEntry]) -> str:
    return json.dumps(
        [
            [e.id_token, e.type, e.status, e.expiry.isoformat() if e.expiry else None, e.parent_id]
            for e in sorted(entries.values(), key=lambda e: e.key)
        ]
    )


def _entries_from_json(text: str | None) -> dict[TokenKey, LocalEntry] | None:
    if text is None:
        return None
    found = {}
    for id_token, kind, status, expiry, parent in json.loads(text):
        entry = LocalEntry(
            id_token, kind, status, datetime.fromisoformat(expiry) if expiry else None, parent
        )
        found[entry.key] = entry
    return found


def _sync_from_row(row: Any) -> SyncRecord:
    return SyncRecord(
        station_id=row.station_id,
        version=row.version,
        update_type=row.update_type,
        status=row.status,
        at=row.at,
        acked_version=row.acked_version,
        acked_entries=_entries_from_json(row.acked_entries),
    )


class LocalListStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def _list_row(self, session: AsyncSession, scope: Scope) -> Any:
        return (
            await session.execute(
                select(local_lists).where(
                    local_lists.c.scope_kind == scope.kind, local_lists.c.scope_id == scope.id
                )
            )
        ).first()

    async def members(self, scope: Scope) -> tuple[int, list[TokenKey]]:
        """(version, member keys) of the scope's list; (0, []) when it has none."""
        async with self.sessions() as session:
            row = await self._list_row(session, scope)
            if row is None:
                return 0, []
            keys = await session.execute(
                select(local_list_entries.c.id_token, local_list_entries.c.type)
                .where(local_list_entries.c.list_id == row.id)
                .order_by(local_list_entries.c.id_token, local_list_entries.c.type)
            )
            return int(row.version), [(k.id_token, k.type) for k in keys]

    async def change(
        self, scope: Scope, add: Sequence[TokenKey], remove: Sequence[TokenKey], now: datetime
    ) -> bool:
        """Add and remove members; the version goes up once if anything changed."""
        async with self.sessions() as session, session.begin():
            row = await self._list_row(session, scope)
            if row is None:
                if not add:
                    return False
                result = await session.execute(
                    local_lists.insert().values(
                        scope_kind=scope.kind, scope_id=scope.id, version=0, updated_at=now
                    )
                )
                list_id = result.inserted_primary_key[0]  # type: ignore[attr-defined]
            else:
                list_id = row.id
            present = {
                (k.id_token, k.type)
                for k in await session.execute(
                    select(local_list_entries.c.id_token, local_list_entries.c.type).where(
                        local_list_entries.c.list_id == list_id
                    )
                )
            }
            to_add = [k for k in dict.fromkeys(add) if k not in present]
            to_remove = [k for k in dict.fromkeys(remove) if k in present]
            if not to_add and not to_remove:
                return False
            if to_add:
                await session.execute(
                    local_list_entries.insert(),
                    [{"list_id": list_id, "id_token": i, "type": t} for i, t in to_add],
                )
            if to_remove:
                await session.execute(
                    delete(local_list_entries).where(
                        local_list_entries.c.list_id == list_id,
                        tuple_(local_list_entries.c.id_token, local_list_entries.c.type).in_(
                            to_remove
                        ),
                    )
                )
            await session.execute(
                update(local_lists)
                .where(local_lists.c.id == list_id)
                .values(version=local_lists.c.version + 1, updated_at=now)
            )
            return True

    async def tokens_changed(
        self,
        session: AsyncSession,
        keys: Sequence[TokenKey],
        now: datetime,
        *,
        drop: bool = False,
    ) -> list[Scope]:
        """Bump the lists holding these tokens (and drop them from the lists when deleted);
        return the scopes of those lists."""
        scopes: set[Scope] = set()
        list_ids: set[int] = set()
        for start in range(0, len(keys), _KEY_CHUNK):
            chunk = list(keys[start : start + _KEY_CHUNK])
            member = tuple_(local_list_entries.c.id_token, local_list_entries.c.type).in_(chunk)
            rows = await session.execute(
                select(local_lists.c.id, local_lists.c.scope_kind, local_lists.c.scope_id)
                .join(local_list_entries, local_list_entries.c.list_id == local_lists.c.id)
                .where(member)
            )
            for row in rows:
                list_ids.add(int(row.id))
                scopes.add(Scope(row.scope_kind, row.scope_id))
            if drop:
                await session.execute(delete(local_list_entries).where(member))
        if list_ids:
            await session.execute(
                update(local_lists)
                .where(local_lists.c.id.in_(sorted(list_ids)))
                .values(version=local_lists.c.version + 1, updated_at=now)
            )
        return sorted(scopes, key=lambda s: (s.kind, s.id))

    async def sync(self, station_id: str) -> SyncRecord | None:
        async with self.sessions() as session:
            row = (
                await session.execute(
                    select(local_list_syncs).where(local_list_syncs.c.station_id == station_id)
                )
            ).first()
            return _sync_from_row(row) if row else None

    async def syncs(self, station_ids: Sequence[str]) -> list[SyncRecord]:
        if not station_ids:
            return []
        async with self.sessions() as session:
            rows = await session.execute(
                select(local_list_syncs)
                .where(local_list_syncs.c.station_id.in_(list(station_ids)))
                .order_by(local_list_syncs.c.station_id)
            )
            return [_sync_from_row(row) for row in rows]

    async def save_sync(self, record: SyncRecord) -> None:
        values = {
            "version": record.version,
            "update_type": record.update_type,
            "status": record.status,
            "at": record.at,
            "acked_version": record.acked_version,
            "acked_entries": (
                None if record.acked_entries is None else _entries_to_json(record.acked_entries)
            ),
        }
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(local_list_syncs)
                .where(local_list_syncs.c.station_id == record.station_id)
                .values(**values)
            )
            if getattr(result, "rowcount", 0) == 0:
                await session.execute(
                    local_list_syncs.insert().values(station_id=record.station_id, **values)
                )
