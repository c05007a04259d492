"""Authorize around the engine: NoAuthorization, unknown tokens, the remote port, sites, audit."""

from __future__ import annotations

from chargegrid.authorization.authorizer import Authorizer, RemoteAuthorizer
from chargegrid.authorization.domain import AuditEntry, AuthorizeQuery, Decision, Token
from chargegrid.authorization.engine import DecisionEngine
from chargegrid.authorization.sites import SiteDirectory
from tests.unit.authorization.builders import NOW, a_query, a_token


class FakeSites(SiteDirectory):
    def __init__(self, sites: dict[str, str]) -> None:
        super().__init__(None)
        self.sites = sites
        self.asked: list[str] = []

    async def site_of(self, station_id: str) -> str | None:
        self.asked.append(station_id)
        return self.sites.get(station_id)


class ListAudit:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


class PartnerTokens:
    async def authorize(self, query: AuthorizeQuery) -> Decision | None:
        return Decision("Accepted", "remote") if query.id_token.startswith("NL-") else None


def an_authorizer(
    *tokens: Token, sites: dict[str, str] | None = None, remote: RemoteAuthorizer | None = None
) -> tuple[Authorizer, FakeSites, ListAudit]:
    engine = DecisionEngine()
    engine.load(tokens, [])
    fake_sites, audit = FakeSites(sites or {}), ListAudit()
    return Authorizer(engine, fake_sites, audit, lambda: NOW, remote), fake_sites, audit


async def test_an_unknown_token_is_invalid_when_no_remote_authorizer_is_configured() -> None:
    authorizer, _, _ = an_authorizer()
    decision = await authorizer.authorize(a_query("NOBODY"))
    assert (decision.status, decision.reason) == ("Invalid", "unknown")


async def test_an_unknown_token_is_asked_of_the_remote_authorizer() -> None:
    authorizer, _, _ = an_authorizer(remote=PartnerTokens())
    assert (await authorizer.authorize(a_query("NL-ABC"))).reason == "remote"
    assert (await authorizer.authorize(a_query("DE-ABC"))).reason == "unknown"


async def test_the_no_authorization_type_is_accepted_without_a_token() -> None:
    authorizer, _, _ = an_authorizer()
    query = a_query("", token_type="NoAuthorization")
    assert (await authorizer.authorize(query)).status == "Accepted"


async def test_the_site_is_only_looked_up_for_site_bound_tokens() -> None:
    authorizer, sites, _ = an_authorizer(
        a_token("FREE"), a_token("BOUND", allowed_site_ids=("S1",)), sites={"CP-1": "S1"}
    )
    assert (await authorizer.authorize(a_query("FREE"))).status == "Accepted"
    assert sites.asked == []
    assert (await authorizer.authorize(a_query("BOUND"))).status == "Accepted"
    refused = await authorizer.authorize(a_query("BOUND", station_id="CP-2"))
    assert refused.status == "NotAtThisLocation"
    assert sites.asked == ["CP-1", "CP-2"]


async def test_every_decision_is_audited_with_the_request() -> None:
    authorizer, _, audit = an_authorizer(a_token(status="Blocked"))
    await authorizer.authorize(a_query(purpose="start", transaction_id="7", token_type=""))
    assert audit.entries == [
        AuditEntry(NOW, "CP-1", "TAG-1", "", "start", "7", "Blocked", "blocked")
    ]
