"""The credentials handshake (credentials.asciidoc), in both directions.

They register with us: they present token A and their credentials (their token B, their
versions URL); we fetch their versions and endpoints with B, pick 2.2.1, issue token C and
answer with it; A stops working. We register with them: with their token A we fetch their
versions and endpoints, issue our token B (valid before we post it: they call our versions
with it meanwhile), POST our credentials and keep their token C. A PUT rotates both tokens,
a DELETE unregisters (our token stops working at once).
"""

from __future__ import annotations

from typing import Any

from chargegrid.platform.logging import get_logger
from chargegrid.roaming.client import OcpiClient, PartnerCallFailed, Party
from chargegrid.roaming.context import RoamingContext
from chargegrid.roaming.ocpi import tokens
from chargegrid.roaming.ocpi.registry import VERSION
from chargegrid.roaming.ocpi.status import OcpiError, Status
from chargegrid.roaming.partners import (
    PENDING,
    REGISTERED,
    UNREGISTERED,
    Partner,
    PartnerError,
    check_party,
)

log = get_logger(__name__)


class RegistrationFailed(Exception):
    """Our registration with a partner did not complete; nothing of it is kept."""


async def fetch_endpoints(
    client: OcpiClient, versions_url: str, token: str
) -> tuple[str, list[dict[str, str]]]:
    """The partner's 2.2.1 details URL and endpoints; OcpiError 3001/3002/3003 if not usable."""
    try:
        versions = await client.call("GET", versions_url, token)
    except PartnerCallFailed as exc:
        raise OcpiError(Status.UNABLE_TO_USE_CLIENT_API, f"versions: {exc}") from None
    found = [v for v in versions or [] if isinstance(v, dict) and v.get("version") == VERSION]
    if not found or not isinstance(found[0].get("url"), str):
        offered = [v.get("version") for v in versions or [] if isinstance(v, dict)]
        raise OcpiError(Status.UNSUPPORTED_VERSION, f"no {VERSION} among versions {offered}")
    try:
        details = await client.call("GET", found[0]["url"], token)
    except PartnerCallFailed as exc:
        raise OcpiError(Status.UNABLE_TO_USE_CLIENT_API, f"version details: {exc}") from None
    endpoints = details.get("endpoints") if isinstance(details, dict) else None
    if not isinstance(endpoints, list) or not endpoints:
        raise OcpiError(Status.NO_MATCHING_ENDPOINTS, "the version details list no endpoints")
    cleaned = [
        {"identifier": str(e["identifier"]), "role": str(e.get("role", "")), "url": str(e["url"])}
        for e in endpoints
        if isinstance(e, dict) and "identifier" in e and "url" in e
    ]
    return VERSION, cleaned


def party_of(partner: Partner, roles: list[dict[str, Any]]) -> tuple[str, str]:
    """The partner's country code and party id: as configured, which one role must match."""
    pairs = [(str(r.get("country_code", "")), str(r.get("party_id", ""))) for r in roles]
    if not pairs:
        raise OcpiError(Status.INVALID_PARAMETERS, "credentials carry no roles")
    if partner.country_code and partner.party_id:
        if (partner.country_code, partner.party_id) not in pairs:
            raise OcpiError(
                Status.INVALID_PARAMETERS,
                f"no role of {partner.country_code}/{partner.party_id} in the credentials",
            )
        return partner.country_code, partner.party_id
    country, party = pairs[0]
    try:
        check_party(country, party)
    except PartnerError as exc:
        raise OcpiError(Status.INVALID_PARAMETERS, str(exc)) from None
    return country, party


def our_credentials(ctx: RoamingContext, token: str) -> dict[str, Any]:
    return {"token": token, "url": ctx.versions_url, "roles": ctx.our_roles()}


async def accept(
    ctx: RoamingContext, partner: Partner, their_token: str, url: str, roles: list[dict[str, Any]]
) -> dict[str, Any]:
    """They registered (POST) or rotated (PUT): store them, answer with our new token C."""
    country, party = party_of(partner, roles)
    version, endpoints = await fetch_endpoints(ctx.client, url, their_token)
    token_c = tokens.new_token()
    await ctx.partners.update(
        partner.id,
        status=REGISTERED,
        token_hash=tokens.digest(token_c),
        token_a_hash=None,
        their_token=their_token,
        versions_url=url,
        version=version,
        endpoints=endpoints,
        roles=roles,
        country_code=country,
        party_id=party,
    )
    return our_credentials(ctx, token_c)


async def unregister(ctx: RoamingContext, partner: Partner) -> None:
    await ctx.partners.update(
        partner.id, status=UNREGISTERED, token_hash=None, token_a_hash=None, their_token=None
    )


async def unregister_from(ctx: RoamingContext, partner: Partner) -> str | None:
    """Tell a registered partner that its credentials with us are gone (DELETE on its
    credentials endpoint); the partner being away does not stop the removal. None when it
    acknowledged, else why not."""
    url = partner.endpoint("credentials", "RECEIVER") or partner.endpoint("credentials", "")
    if partner.status != REGISTERED or not partner.their_token or not url:
        return "not registered"
    try:
        await ctx.client.call(
            "DELETE", url, partner.their_token, to=Party(partner.country_code, partner.party_id)
        )
    except PartnerCallFailed as exc:
        log.warning("partner not told of its removal", partner=partner.id, error=str(exc))
        return str(exc)
    return None


async def register_with(ctx: RoamingContext, partner: Partner, url: str, token_a: str) -> Partner:
    """We register with a partner whose versions URL is `url`, with their token A."""
    if partner.status == REGISTERED:
        raise RegistrationFailed(f"partner {partner.id} is registered already")
    try:
        version, endpoints = await fetch_endpoints(ctx.client, url, token_a)
    except OcpiError as exc:
        raise RegistrationFailed(exc.message) from None
    credentials_url = next((e["url"] for e in endpoints if e["identifier"] == "credentials"), None)
    if credentials_url is None:
        raise RegistrationFailed("the partner lists no credentials endpoint")
    token_b = tokens.new_token()
    await ctx.partners.update(partner.id, token_hash=tokens.digest(token_b))
    try:
        answer = await ctx.client.call(
            "POST", credentials_url, token_a, our_credentials(ctx, token_b)
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("token"), str):
            raise RegistrationFailed("the partner answered without a credentials token")
        roles: list[dict[str, Any]] = [r for r in answer.get("roles") or [] if isinstance(r, dict)]
        country, party = party_of(partner, roles)
    except (PartnerCallFailed, RegistrationFailed, OcpiError) as exc:
        await ctx.partners.update(partner.id, token_hash=None, status=PENDING)
        message = exc.message if isinstance(exc, OcpiError) else str(exc)
        raise RegistrationFailed(message) from None
    return await ctx.partners.update(
        partner.id,
        status=REGISTERED,
        token_a_hash=None,
        their_token=answer["token"],
        versions_url=str(answer.get("url") or url),
        version=version,
        endpoints=endpoints,
        roles=roles,
        country_code=country,
        party_id=party,
    )


def credentials_url(partner: Partner) -> str | None:
    """The partner's credentials endpoint (listed as SENDER, RECEIVER or without a role)."""
    return next((e["url"] for e in partner.endpoints if e.get("identifier") == "credentials"), None)


async def rotate_with(ctx: RoamingContext, partner: Partner) -> Partner:
    """Our side of a rotation: a new token for them (valid before the PUT: they may call our
    versions with it first), our credentials PUT to them, their new token kept. When it
    fails, our old token digest is put back and their token is unchanged."""
    url = credentials_url(partner)
    if partner.status != REGISTERED or not partner.their_token or url is None:
        raise RegistrationFailed(f"partner {partner.id} is {partner.status} (no credentials)")
    old_digest = await ctx.partners.token_digest(partner.id)
    new_token = tokens.new_token()
    await ctx.partners.update(partner.id, token_hash=tokens.digest(new_token))
    to = Party(partner.country_code, partner.party_id)
    try:
        answer = await ctx.client.call(
            "PUT", url, partner.their_token, our_credentials(ctx, new_token), to=to
        )
        if not isinstance(answer, dict) or not isinstance(answer.get("token"), str):
            raise RegistrationFailed("the partner answered without a credentials token")
        roles: list[dict[str, Any]] = [r for r in answer.get("roles") or [] if isinstance(r, dict)]
        country, party = party_of(partner, roles)
    except (PartnerCallFailed, RegistrationFailed, OcpiError) as exc:
        await ctx.partners.update(partner.id, token_hash=old_digest)
        message = exc.message if isinstance(exc, OcpiError) else str(exc)
        raise RegistrationFailed(message) from None
    versions_url = str(answer.get("url") or partner.versions_url)
    try:  # the partner may have moved: its endpoints as its new token sees them
        version, endpoints = await fetch_endpoints(ctx.client, versions_url, answer["token"])
    except OcpiError as exc:
        log.warning("endpoints not refreshed after rotation", partner=partner.id, error=exc.message)
        version, endpoints = partner.version, partner.endpoints
    log.info("credentials rotated", partner=partner.id)
    return await ctx.partners.update(
        partner.id, their_token=answer["token"], versions_url=versions_url, version=version,
        endpoints=endpoints, roles=roles, country_code=country, party_id=party,
    )  # fmt: skip
