"""Authorize a roaming token: from the tokens partners pushed, or by asking them in real time.

The whitelist of a stored token decides (mod_tokens.asciidoc, WhitelistType): ALWAYS and
ALLOWED are answered from what is stored (ALLOWED lets the CPO choose; we choose the stored
answer, no driver waits on a partner); ALLOWED_OFFLINE asks the partner and accepts when it
cannot be reached; NEVER asks and refuses when it cannot be reached. A token nobody pushed is
asked of every registered partner that sends tokens (POST /tokens/{uid}/authorize), and the
token a partner answers with is kept, so the session it starts is tagged with that partner.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from chargegrid.platform.logging import get_logger
from chargegrid.roaming.client import OcpiClient, PartnerCallFailed, Party
from chargegrid.roaming.partner_tokens import PartnerTokens, StoredToken
from chargegrid.roaming.partners import REGISTERED, Partner, PartnerStore, UnknownPartner
from chargegrid.roaming.token_models import OcpiToken, WhitelistType

log = get_logger(__name__)

#: OCPI AllowedType -> the OCPP authorization status the station is given.
ALLOWED_STATUS = {
    "ALLOWED": "Accepted",
    "BLOCKED": "Blocked",
    "EXPIRED": "Expired",
    "NO_CREDIT": "Blocked",
    "NOT_ALLOWED": "NotAtThisLocation",
}


@dataclass(frozen=True)
class Answer:
    known: bool
    status: str = "Invalid"
    reason: str = "unknown"
    source: str = ""
    group_id: str = ""
    authorization_reference: str = ""
    partner_id: str = ""


def ocpi_type(ocpp_type: str) -> str:
    """The OCPI TokenType a station's OCPP id token type corresponds to."""
    kind = ocpp_type.lower()
    if kind in ("", "idtag", "iso14443", "iso15693", "local"):
        return "RFID"
    if kind == "central":
        return "APP_USER"
    return "OTHER"


def _pick(found: list[StoredToken], ocpp_type: str) -> StoredToken | None:
    wanted = ocpi_type(ocpp_type)
    same = [s for s in found if s.token.type.value == wanted]
    candidates = same or found
    return candidates[0] if candidates else None


class RealtimeAuthorization:
    def __init__(self, tokens: PartnerTokens, partners: PartnerStore, client: OcpiClient) -> None:
        self.tokens = tokens
        self.partners = partners
        self.client = client

    async def authorize(self, id_token: str, token_type: str = "") -> Answer:
        if not id_token:
            return Answer(known=False)
        stored = _pick(await self.tokens.find(id_token), token_type)
        if stored is None:
            return await self._ask_everyone(id_token, ocpi_type(token_type))
        return await self._decide(stored)

    async def _decide(self, stored: StoredToken) -> Answer:
        token = stored.token

        def answer(status: str, reason: str, reference: str = "") -> Answer:
            return Answer(
                True,
                status,
                reason,
                stored.source,
                token.group_id or "",
                reference,
                stored.partner_id,
            )

        if not token.valid:
            return answer("Invalid", "token_not_valid")
        if token.whitelist in (WhitelistType.ALWAYS, WhitelistType.ALLOWED):
            return answer("Accepted", f"whitelist_{token.whitelist.value.lower()}")
        try:
            partner = await self.partners.get(stored.partner_id)
            info = await self._ask(partner, token.uid, token.type.value)
        except (PartnerCallFailed, UnknownPartner) as exc:
            down = not isinstance(exc, PartnerCallFailed) or exc.partner_down
            if down and token.whitelist == WhitelistType.ALLOWED_OFFLINE:
                return answer("Accepted", "partner_offline_allowed")
            log.warning("real-time authorization failed", uid=token.uid, error=str(exc))
            return answer("Invalid", "partner_unreachable" if down else "partner_refused")
        return self._from_info(info, stored.partner_id, fallback=token)

    async def _ask(self, partner: Partner, uid: str, type_: str) -> dict[str, Any]:
        url = partner.endpoint("tokens", "SENDER")
        if partner.status != REGISTERED or not url or not partner.their_token:
            raise PartnerCallFailed(f"partner {partner.id} has no tokens endpoint")
        data = await self.client.call(
            "POST",
            f"{url.rstrip('/')}/{uid}/authorize?type={type_}",
            partner.their_token,
            to=Party(partner.country_code, partner.party_id),
        )
        if isinstance(data, list) and len(data) == 1:
            data = data[0]  # some eMSPs wrap the one AuthorizationInfo in a list
        if not isinstance(data, dict) or data.get("allowed") not in ALLOWED_STATUS:
            raise PartnerCallFailed(f"partner {partner.id} answered no AuthorizationInfo", 200)
        return data

    def _from_info(
        self, info: dict[str, Any], partner_id: str, fallback: OcpiToken | None
    ) -> Answer:
        try:
            token = OcpiToken.model_validate(info.get("token"))
        except ValidationError:
            token = fallback  # type: ignore[assignment]
        source = f"ocpi:{token.country_code}-{token.party_id}" if token else ""
        allowed = str(info["allowed"])
        return Answer(
            True,
            ALLOWED_STATUS[allowed],
            f"partner_{allowed.lower()}",
            source,
            (token.group_id or "") if token else "",
            str(info.get("authorization_reference") or ""),
            partner_id,
        )

    async def _ask_everyone(self, uid: str, type_: str) -> Answer:
        askable = [
            p
            for p in await self.partners.all()
            if p.status == REGISTERED and p.may_use("tokens") and p.endpoint("tokens", "SENDER")
        ]

        async def one(partner: Partner) -> tuple[Partner, dict[str, Any]] | None:
            try:
                return partner, await self._ask(partner, uid, type_)
            except PartnerCallFailed:
                return None

        answers = [found for found in await asyncio.gather(*map(one, askable)) if found]
        if not answers:
            return Answer(known=False)
        answers.sort(key=lambda found: found[1]["allowed"] != "ALLOWED")
        partner, info = answers[0]
        try:
            token = OcpiToken.model_validate(info.get("token"))
        except ValidationError:
            token = None
        if token is not None:
            await self.tokens.remember(partner.id, token)
        return self._from_info(info, partner.id, fallback=token)
