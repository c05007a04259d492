"""Partners' tokens (OCPI tokens module, we are the receiver): stored, patched, pulled, found.

A partner may only write tokens of its own parties (the country code and party id of one of
its roles); PUT replaces the object, PATCH merges into it and must carry `last_updated`; an
object whose merge does not validate is refused whole, so nothing half-written is stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.roaming.client import OcpiClient, Party
from chargegrid.roaming.ocpi.envelope import ocpi_time
from chargegrid.roaming.partners import Partner
from chargegrid.roaming.token_models import OcpiToken, PartnerTokenRow


class TokenRefused(ValueError):
    """The token cannot be stored as sent (wrong party, invalid after a PATCH, ...)."""


class UnknownToken(LookupError):
    """No token of that partner with that uid and type is stored."""


@dataclass(frozen=True)
class StoredToken:
    partner_id: str
    token: OcpiToken

    @property
    def source(self) -> str:
        return f"ocpi:{self.token.country_code}-{self.token.party_id}"


def parties_of(partner: Partner) -> set[tuple[str, str]]:
    """The (country code, party id) pairs a partner speaks for."""
    found = {(partner.country_code, partner.party_id)}
    for role in partner.roles:
        found.add((str(role.get("country_code", "")), str(role.get("party_id", ""))))
    return {(c.upper(), p.upper()) for c, p in found if c and p}


def _json(token: OcpiToken) -> str:
    body = token.model_dump(mode="json", exclude_none=True)
    body["last_updated"] = ocpi_time(token.last_updated)
    return json.dumps(body, separators=(",", ":"))


def key_of(country_code: str, party_id: str, uid: str, type_: str) -> tuple[str, str, str, str]:
    """A token's primary key: OCPI ids are CiStrings (case-insensitive), so the key is
    upper-cased; the object keeps the case the partner sent."""
    return country_code.upper(), party_id.upper(), uid.upper(), type_


def _stored(row: PartnerTokenRow) -> StoredToken:
    return StoredToken(row.partner_id, OcpiToken.model_validate_json(row.body))


class PartnerTokens:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        #: Called after tokens were written (CDRs kept for them are looked at).
        self.on_written: Callable[[], None] = lambda: None

    @staticmethod
    def check_party(partner: Partner, country_code: str, party_id: str) -> None:
        if (country_code.upper(), party_id.upper()) not in parties_of(partner):
            raise TokenRefused(
                f"party {country_code}-{party_id} is not one of partner {partner.id}'s roles"
            )

    async def put(self, partner: Partner, token: OcpiToken) -> StoredToken:
        self.check_party(partner, token.country_code, token.party_id)
        async with self.sessions.begin() as session:
            await self._write(session, partner.id, token)
        self.on_written()
        return StoredToken(partner.id, token)

    async def _write(self, session: AsyncSession, partner_id: str, token: OcpiToken) -> None:
        key = key_of(token.country_code, token.party_id, token.uid, token.type.value)
        row = await session.get(PartnerTokenRow, key)
        if row is None:
            row = PartnerTokenRow(country_code=key[0], party_id=key[1], uid=key[2], type=key[3])
            session.add(row)
        row.partner_id = partner_id
        row.valid = token.valid
        row.whitelist = token.whitelist.value
        row.group_id = token.group_id
        row.body = _json(token)
        row.last_updated = token.last_updated

    async def patch(
        self,
        partner: Partner,
        country_code: str,
        party_id: str,
        uid: str,
        type_: str,
        changes: dict[str, Any],
    ) -> StoredToken:
        self.check_party(partner, country_code, party_id)
        if "last_updated" not in changes:
            raise TokenRefused("a PATCH must carry last_updated")
        for fixed in ("country_code", "party_id", "uid", "type"):
            if (
                fixed in changes
                and str(changes[fixed]).upper()
                != {
                    "country_code": country_code.upper(),
                    "party_id": party_id.upper(),
                    "uid": uid.upper(),
                    "type": type_.upper(),
                }[fixed]
            ):
                raise TokenRefused(f"a PATCH cannot change {fixed}")
        async with self.sessions.begin() as session:
            row = await session.get(PartnerTokenRow, key_of(country_code, party_id, uid, type_))
            if row is None:
                raise UnknownToken(f"no token {country_code}-{party_id} {uid} ({type_})")
            merged = {**json.loads(row.body), **changes}
            try:
                token = OcpiToken.model_validate(merged)
            except ValidationError as exc:
                raise TokenRefused(
                    f"the patched token is not valid: {exc.errors()[0]['msg']}"
                ) from exc
            await self._write(session, partner.id, token)
        self.on_written()
        return StoredToken(partner.id, token)

    async def get(self, country_code: str, party_id: str, uid: str, type_: str) -> StoredToken:
        async with self.sessions() as session:
            row = await session.get(PartnerTokenRow, key_of(country_code, party_id, uid, type_))
        if row is None:
            raise UnknownToken(f"no token {country_code}-{party_id} {uid} ({type_})")
        return _stored(row)

    async def find(self, uid: str) -> list[StoredToken]:
        """Every partner token with this uid in any case (any type, any party), newest
        first."""
        async with self.sessions() as session:
            rows = (
                await session.scalars(
                    select(PartnerTokenRow)
                    .where(PartnerTokenRow.uid == uid.upper())
                    .order_by(PartnerTokenRow.last_updated.desc())
                )
            ).all()
        return [_stored(row) for row in rows]

    async def count(self, partner_id: str) -> int:
        async with self.sessions() as session:
            found = await session.scalar(
                select(func.count()).where(PartnerTokenRow.partner_id == partner_id)
            )
        return int(found or 0)

    async def pull(self, partner: Partner, client: OcpiClient, limit: int = 100) -> int:
        """GET the partner's tokens (its SENDER endpoint), page by page; how many stored.

        An object that does not validate is skipped (it cannot be used at a station) and the
        rest are kept: one bad token must not block a partner's whole list.
        """
        url = partner.endpoint("tokens", "SENDER")
        if not url or not partner.their_token:
            raise TokenRefused(f"partner {partner.id} has no tokens SENDER endpoint")
        to = Party(partner.country_code, partner.party_id)
        offset, stored = 0, 0
        while True:
            page = await client.call(
                "GET",
                f"{url.rstrip('/')}/?offset={offset}&limit={limit}",
                partner.their_token,
                to=to,
            )
            items = page if isinstance(page, list) else []
            async with self.sessions.begin() as session:
                for item in items:
                    try:
                        token = OcpiToken.model_validate(item)
                        self.check_party(partner, token.country_code, token.party_id)
                    except (ValidationError, TokenRefused):
                        continue
                    await self._write(session, partner.id, token)
                    stored += 1
            if stored:
                self.on_written()
            if len(items) < limit:
                return stored
            offset += len(items)

    async def remember(self, partner_id: str, token: OcpiToken) -> None:
        """Keep a token a partner answered for in real time (sessions are tagged from it)."""
        async with self.sessions.begin() as session:
            await self._write(session, partner_id, token)
        self.on_written()
