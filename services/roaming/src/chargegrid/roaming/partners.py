"""Partners: who may call us with which token, which modules they use, how we reach them.

A partner is added by an operator (status PENDING, a token A issued once), then registers
with it (or we register with them); from then on it presents its own token, which we keep
only as a digest. Country code and party id are those of the partner's first role.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.roaming.clock import Clock
from chargegrid.roaming.flows.command_rows import CommandRow, ReservationRow
from chargegrid.roaming.models import OutboxRow, PartnerRow
from chargegrid.roaming.ocpi import tokens

PENDING, REGISTERED, SUSPENDED, UNREGISTERED = "PENDING", "REGISTERED", "SUSPENDED", "UNREGISTERED"
STATUSES = (PENDING, REGISTERED, SUSPENDED, UNREGISTERED)
PARTNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
PARTY = re.compile(r"^[A-Z0-9]{3}$")


class PartnerError(ValueError):
    """A partner request that breaks a rule; nothing was changed."""


class UnknownPartner(LookupError):
    """No partner with that id is configured."""


@dataclass
class Partner:
    id: str
    name: str
    country_code: str
    party_id: str
    status: str
    allowed_modules: list[str]
    roles: list[dict[str, Any]] = field(default_factory=list)
    versions_url: str = ""
    version: str = ""
    endpoints: list[dict[str, str]] = field(default_factory=list)
    their_token: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def endpoint(self, identifier: str, role: str = "RECEIVER") -> str | None:
        """The partner's URL of a module in a role; a role-less entry (2.1.1 style) matches."""
        for entry in self.endpoints:
            if entry.get("identifier") == identifier and entry.get("role", role) == role:
                return entry.get("url")
        return None

    def may_use(self, module: str) -> bool:
        return module in self.allowed_modules


def _partner(row: PartnerRow) -> Partner:
    return Partner(
        id=row.id,
        name=row.name,
        country_code=row.country_code,
        party_id=row.party_id,
        status=row.status,
        allowed_modules=json.loads(row.allowed_modules),
        roles=json.loads(row.roles),
        versions_url=row.versions_url,
        version=row.version,
        endpoints=json.loads(row.endpoints),
        their_token=row.their_token,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def check_party(country_code: str, party_id: str) -> None:
    if country_code and not COUNTRY.match(country_code):
        raise PartnerError(f"country_code must be 2 capital letters, got {country_code!r}")
    if party_id and not PARTY.match(party_id):
        raise PartnerError(f"party_id must be 3 capital letters or digits, got {party_id!r}")


class PartnerStore:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Clock, known_modules: set[str]
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.known_modules = known_modules

    def _modules(self, modules: list[str]) -> list[str]:
        unknown = sorted(set(modules) - self.known_modules)
        if unknown:
            known = ", ".join(sorted(self.known_modules))
            raise PartnerError(f"unknown module(s) {', '.join(unknown)} (known: {known})")
        return sorted(set(modules))

    async def add(
        self,
        partner_id: str,
        *,
        name: str = "",
        country_code: str = "",
        party_id: str = "",
        allowed_modules: list[str] | None = None,
    ) -> tuple[Partner, str]:
        """A new PENDING partner and its token A (returned once, stored as a digest)."""
        if not PARTNER_ID.match(partner_id):
            raise PartnerError(f"partner id {partner_id!r}: letters, digits, . _ - (max 64)")
        country_code, party_id = country_code.upper(), party_id.upper()
        check_party(country_code, party_id)
        if len(name) > 200:
            raise PartnerError("name is longer than 200 characters")
        modules = self._modules(allowed_modules or sorted(self.known_modules))
        token_a = tokens.new_token()
        now = self.clock()
        row = PartnerRow(
            id=partner_id,
            name=name,
            country_code=country_code,
            party_id=party_id,
            roles="[]",
            allowed_modules=json.dumps(modules),
            status=PENDING,
            versions_url="",
            version="",
            endpoints="[]",
            token_a_hash=tokens.digest(token_a),
            token_hash=None,
            their_token=None,
            created_at=now,
            updated_at=now,
        )
        async with self.sessions.begin() as session:
            if await session.get(PartnerRow, partner_id) is not None:
                raise PartnerError(f"partner {partner_id!r} exists already")
            session.add(row)
        return _partner(row), token_a

    async def get(self, partner_id: str) -> Partner:
        async with self.sessions() as session:
            row = await session.get(PartnerRow, partner_id)
        if row is None:
            raise UnknownPartner(partner_id)
        return _partner(row)

    async def all(self) -> list[Partner]:
        async with self.sessions() as session:
            rows = (await session.scalars(select(PartnerRow).order_by(PartnerRow.id))).all()
        return [_partner(row) for row in rows]

    async def registered_with(self, module: str) -> list[Partner]:
        """Registered partners allowed `module`: those that receive its pushes."""
        return [p for p in await self.all() if p.status == REGISTERED and p.may_use(module)]

    async def remove(self, partner_id: str) -> None:
        """Forget the partner, every push still waiting for it, its commands and
        reservations."""
        async with self.sessions.begin() as session:
            row = await session.get(PartnerRow, partner_id)
            if row is None:
                raise UnknownPartner(partner_id)
            await session.delete(row)
            for table in (OutboxRow, CommandRow, ReservationRow):
                await session.execute(delete(table).where(table.partner_id == partner_id))

    async def by_token(self, candidates: list[str]) -> tuple[Partner, bool] | None:
        """The partner presenting one of `candidates`, and whether it was its token A."""
        digests = [tokens.digest(c) for c in candidates]
        if not digests:
            return None
        async with self.sessions() as session:
            row = await session.scalar(
                select(PartnerRow).where(
                    or_(PartnerRow.token_hash.in_(digests), PartnerRow.token_a_hash.in_(digests))
                )
            )
        if row is None:
            return None
        return _partner(row), row.token_a_hash in digests

    async def token_digest(self, partner_id: str) -> str | None:
        """The digest of the token the partner presents to us (kept to undo a rotation)."""
        async with self.sessions() as session:
            row = await session.get(PartnerRow, partner_id)
        if row is None:
            raise UnknownPartner(partner_id)
        return row.token_hash

    async def update(self, partner_id: str, **changes: Any) -> Partner:
        """Apply column changes (lists/dicts JSON-encoded) to one partner."""
        async with self.sessions.begin() as session:
            row = await session.get(PartnerRow, partner_id)
            if row is None:
                raise UnknownPartner(partner_id)
            for key, value in changes.items():
                if key in ("roles", "allowed_modules", "endpoints"):
                    value = json.dumps(value)
                setattr(row, key, value)
            row.updated_at = self.clock()
        return _partner(row)

    async def set_modules(self, partner_id: str, modules: list[str]) -> Partner:
        return await self.update(partner_id, allowed_modules=self._modules(modules))

    async def issue_token_a(self, partner_id: str) -> str:
        """A new token A for a partner (re-registration after an unregister)."""
        token_a = tokens.new_token()
        await self.update(partner_id, token_a_hash=tokens.digest(token_a))
        return token_a
