"""Tokens in the database: the source of truth the in-memory engine is loaded from.

Every write stamps `updated_at`, which is how other replicas find changes; deletion is a
flag for the same reason. Listing is keyset-paged on (id_token, type) with an opaque token.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, and_, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.authorization.domain import Token, TokenKey
from chargegrid.authorization.models import tokens
from chargegrid.platform.grpc import InvalidArgument

_KEY_CHUNK = 400  # keys per IN (...) query: well under every backend's parameter limit


def token_from_row(row: Row[Any]) -> Token:
    return Token(
        id_token=row.id_token,
        type=row.type,
        status=row.status,
        expires_at=row.expires_at,
        group_id=row.group_id,
        owner_ref=row.owner_ref,
        allowed_site_ids=tuple(json.loads(row.allowed_site_ids or "[]")),
        source=row.source,
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted=row.deleted,
        max_concurrent_transactions=row.max_concurrent_transactions,
        personal_message=row.personal_message,
        language=row.language,
    )


def token_values(token: Token) -> dict[str, Any]:
    return {
        "id_token": token.id_token,
        "type": token.type,
        "status": token.status,
        "expires_at": token.expires_at,
        "group_id": token.group_id,
        "owner_ref": token.owner_ref,
        "allowed_site_ids": json.dumps(list(token.allowed_site_ids)),
        "source": token.source,
        "deleted": token.deleted,
        "max_concurrent_transactions": token.max_concurrent_transactions,
        "personal_message": token.personal_message,
        "language": token.language,
        "created_at": token.created_at,
        "updated_at": token.updated_at,
    }


@dataclass(frozen=True)
class TokenFilter:
    id_prefix: str = ""
    status: str = ""
    group_id: str = ""
    owner_ref: str = ""
    source: str = ""


def encode_page(key: TokenKey) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def decode_page(page_token: str) -> TokenKey | None:
    if not page_token:
        return None
    try:
        id_token, kind = json.loads(base64.urlsafe_b64decode(page_token.encode()))
        return (str(id_token), str(kind))
    except (ValueError, TypeError) as exc:
        raise InvalidArgument("page_token is not one this service handed out") from exc


class TokenStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def load_all(self) -> list[Token]:
        async with self.sessions() as session:
            rows = await session.execute(select(tokens).where(tokens.c.deleted.is_(False)))
            return [token_from_row(row) for row in rows]

    async def changed_since(self, since: datetime) -> list[Token]:
        """Rows written at or after `since`, deleted ones included (they must disappear)."""
        async with self.sessions() as session:
            rows = await session.execute(select(tokens).where(tokens.c.updated_at >= since))
            return [token_from_row(row) for row in rows]

    async def get(self, key: TokenKey, *, with_deleted: bool = False) -> Token | None:
        async with self.sessions() as session:
            found = await self._get(session, key)
        if found is None or (found.deleted and not with_deleted):
            return None
        return found

    async def by_id(self, id_token: str) -> list[Token]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(tokens).where(tokens.c.id_token == id_token, tokens.c.deleted.is_(False))
            )
            return [token_from_row(row) for row in rows]

    async def _get(self, session: AsyncSession, key: TokenKey) -> Token | None:
        row = (
            await session.execute(
                select(tokens).where(tokens.c.id_token == key[0], tokens.c.type == key[1])
            )
        ).first()
        return token_from_row(row) if row else None

    async def existing(
        self, session: AsyncSession, keys: Sequence[TokenKey]
    ) -> dict[TokenKey, Token]:
        """The stored rows (deleted ones too) of `keys`, in chunks."""
        found: dict[TokenKey, Token] = {}
        for start in range(0, len(keys), _KEY_CHUNK):
            chunk = keys[start : start + _KEY_CHUNK]
            rows = await session.execute(
                select(tokens).where(tuple_(tokens.c.id_token, tokens.c.type).in_(chunk))
            )
            for row in rows:
                token = token_from_row(row)
                found[token.key] = token
        return found

    async def write(
        self, session: AsyncSession, items: Iterable[tuple[Token, Token | None]]
    ) -> None:
        """Insert (previous None) or overwrite rows, inside the caller's transaction."""
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for token, previous in items:
            (updates if previous is not None else inserts).append(token_values(token))
        if inserts:
            await session.execute(tokens.insert(), inserts)
        for values in updates:
            await session.execute(
                update(tokens)
                .where(tokens.c.id_token == values["id_token"], tokens.c.type == values["type"])
                .values(**values)
            )

    async def delete(self, key: TokenKey, now: datetime) -> Token | None:
        """Flag the token deleted; None if there was no live token."""
        async with self.sessions() as session, session.begin():
            current = await self._get(session, key)
            if current is None or current.deleted:
                return None
            gone = replace(current, deleted=True, updated_at=now)
            await self.write(session, [(gone, current)])
            return gone

    async def list(
        self, where: TokenFilter, page_size: int, page_token: str
    ) -> tuple[list[Token], str, int]:
        conditions: list[ColumnElement[bool]] = [tokens.c.deleted.is_(False)]
        if where.id_prefix:
            conditions.append(tokens.c.id_token.startswith(where.id_prefix, autoescape=True))
        for column, value in (
            (tokens.c.status, where.status),
            (tokens.c.group_id, where.group_id),
            (tokens.c.owner_ref, where.owner_ref),
            (tokens.c.source, where.source),
        ):
            if value:
                conditions.append(column == value)
        after = decode_page(page_token)
        paged = list(conditions)
        if after is not None:
            paged.append(
                or_(
                    tokens.c.id_token > after[0],
                    and_(tokens.c.id_token == after[0], tokens.c.type > after[1]),
                )
            )
        query = (
            select(tokens)
            .where(*paged)
            .order_by(tokens.c.id_token, tokens.c.type)
            .limit(page_size + 1)
        )
        async with self.sessions() as session:
            rows = [token_from_row(row) for row in await session.execute(query)]
            total = (
                await session.execute(select(func.count()).select_from(tokens).where(*conditions))
            ).scalar_one()
        next_token = encode_page(rows[page_size - 1].key) if len(rows) > page_size else ""
        return rows[:page_size], next_token, int(total)
