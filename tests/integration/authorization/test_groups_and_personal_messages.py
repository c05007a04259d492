"""OCPP 2.0.1 block C on the CSMS side of Authorize: groups (C09), the Master Pass group's
cards (C16), and the personal message and language a token carries (idTokenInfo).

Test names carry the FR row they prove where the Part 2 text was at hand (docs/
ocpp-201-use-cases.md lists the rows and why the others are not the CSMS's)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.authorization.domain import ActiveTransaction
from chargegrid.platform.grpc import Role
from tests.integration.authorization.conftest import Service, a_token


def ask(id_token: str, **more: Any) -> pb.AuthorizeRequest:
    return pb.AuthorizeRequest(station_id="CP-1", id_token=id_token, token_type="ISO14443", **more)


async def test_C09_FR_02_tokens_of_one_group_share_the_group_id_token(service: Service) -> None:
    await service.stub().ImportTokens(
        pb.ImportTokensRequest(
            tokens=[
                a_token("HOUSE"),
                a_token("ANNA", group_id="HOUSE"),
                a_token("BEN", group_id="HOUSE"),
            ]
        )
    )
    gateway = service.stub(Role.SERVICE)
    anna, ben = await gateway.Authorize(ask("ANNA")), await gateway.Authorize(ask("BEN"))
    assert (anna.status, anna.group_id) == (pb.AUTHORIZATION_STATUS_ACCEPTED, "HOUSE")
    assert (ben.status, ben.group_id) == (pb.AUTHORIZATION_STATUS_ACCEPTED, "HOUSE")


async def test_C09_FR_03_another_card_of_the_group_is_accepted_to_stop_the_transaction(
    service: Service,
) -> None:
    await service.stub().ImportTokens(
        pb.ImportTokensRequest(
            tokens=[
                a_token("HOUSE"),
                a_token("ANNA", group_id="HOUSE"),
                a_token("BEN", group_id="HOUSE"),
            ]
        )
    )
    service.app.engine.apply_transaction(ActiveTransaction("CP-1", "tx-9", "ANNA", evse_id=1))
    gateway = service.stub(Role.SERVICE)
    # BEN presents his own card at the EVSE ANNA started on: Authorize, then the
    # TransactionEvent that carries his token (triggerReason StopAuthorized).
    presented = await gateway.Authorize(ask("BEN"))
    inside = await gateway.Authorize(
        ask("BEN", purpose="transaction", transaction_id="tx-9", evse_id=1)
    )
    for answer in (presented, inside):
        assert (answer.status, answer.group_id) == (pb.AUTHORIZATION_STATUS_ACCEPTED, "HOUSE")
    # ANNA's own card is busy elsewhere, not inside her own transaction.
    elsewhere = await gateway.Authorize(
        pb.AuthorizeRequest(station_id="CP-2", id_token="ANNA", purpose="start")
    )
    assert elsewhere.status == pb.AUTHORIZATION_STATUS_CONCURRENT_TX


async def test_C16_a_master_pass_card_is_accepted_inside_any_transaction_with_its_group(
    service: Service,
) -> None:
    await service.stub().ImportTokens(
        pb.ImportTokensRequest(
            tokens=[a_token("POLICE"), a_token("OFFICER-1", group_id="POLICE"), a_token("ANNA")]
        )
    )
    service.app.engine.apply_transaction(ActiveTransaction("CP-1", "tx-1", "ANNA", evse_id=1))
    gateway = service.stub(Role.SERVICE)
    stop = await gateway.Authorize(
        ask("OFFICER-1", purpose="transaction", transaction_id="tx-1", evse_id=1)
    )
    # The station compares the group with its AuthCtrlr.MasterPassGroupId; the CSMS's part
    # is to answer Accepted with the group.
    assert (stop.status, stop.group_id) == (pb.AUTHORIZATION_STATUS_ACCEPTED, "POLICE")


async def test_a_tokens_personal_message_and_language_come_with_every_answer(
    service: Service,
) -> None:
    await service.stub().ImportTokens(
        pb.ImportTokensRequest(
            tokens=[
                a_token("NL-CARD", personal_message="Welkom terug, Anna", language="nl"),
                a_token(
                    "LOST",
                    status=pb.AUTHORIZATION_STATUS_BLOCKED,
                    personal_message="Card blocked: call +31 20 555 0100",
                ),
            ]
        )
    )
    gateway = service.stub(Role.SERVICE)
    welcome = await gateway.Authorize(ask("NL-CARD"))
    assert (welcome.status, welcome.personal_message, welcome.language) == (
        pb.AUTHORIZATION_STATUS_ACCEPTED,
        "Welkom terug, Anna",
        "nl",
    )
    blocked = await gateway.Authorize(ask("LOST"))
    assert (blocked.status, blocked.personal_message, blocked.language) == (
        pb.AUTHORIZATION_STATUS_BLOCKED,
        "Card blocked: call +31 20 555 0100",
        "",
    )
    stored = await service.stub().GetToken(
        pb.GetTokenRequest(id_token="NL-CARD", type=pb.TOKEN_TYPE_ISO14443)
    )
    assert (stored.personal_message, stored.language) == ("Welkom terug, Anna", "nl")
    unknown = await gateway.Authorize(ask("NOBODY"))
    assert (unknown.status, unknown.personal_message) == (pb.AUTHORIZATION_STATUS_INVALID, "")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"personal_message": "x" * 513}, "longer than 512"),
        ({"personal_message": "beep\x07"}, "control characters"),
        ({"language": "dutch-language"}, "not a language tag"),
        ({"language": "n1"}, "not a language tag"),
    ],
)
async def test_a_personal_message_or_language_the_station_cannot_carry_is_refused(
    service: Service, fields: dict[str, str], message: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await service.stub().CreateToken(pb.CreateTokenRequest(token=a_token("BAD", **fields)))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in (refused.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await service.stub().GetToken(
            pb.GetTokenRequest(id_token="BAD", type=pb.TOKEN_TYPE_ISO14443)
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_C01_FR_07_C06_FR_04_every_authorize_gets_a_status_accepted_or_why_not(
    service: Service,
) -> None:
    await service.stub().ImportTokens(
        pb.ImportTokensRequest(
            tokens=[
                pb.Token(id_token="LOCAL-OK", type=pb.TOKEN_TYPE_LOCAL),
                pb.Token(
                    id_token="LOCAL-BLOCKED",
                    type=pb.TOKEN_TYPE_LOCAL,
                    status=pb.AUTHORIZATION_STATUS_BLOCKED,
                ),
            ]
        )
    )
    gateway = service.stub(Role.SERVICE)

    async def status(id_token: str, token_type: str) -> int:
        reply = await gateway.Authorize(
            pb.AuthorizeRequest(station_id="CP-1", id_token=id_token, token_type=token_type)
        )
        return reply.status  # type: ignore[no-any-return]

    assert await status("LOCAL-OK", "Local") == pb.AUTHORIZATION_STATUS_ACCEPTED
    assert await status("LOCAL-BLOCKED", "Local") == pb.AUTHORIZATION_STATUS_BLOCKED
    # The same id under another type is another token (C06: the type is part of the id).
    assert await status("LOCAL-OK", "ISO14443") == pb.AUTHORIZATION_STATUS_INVALID
    assert await status("LOCAL-NEVER", "Local") == pb.AUTHORIZATION_STATUS_INVALID


async def test_C04_FR_01_a_key_code_not_valid_here_is_answered_invalid(service: Service) -> None:
    await service.stub().CreateToken(
        pb.CreateTokenRequest(token=pb.Token(id_token="4711", type=pb.TOKEN_TYPE_KEY_CODE))
    )
    gateway = service.stub(Role.SERVICE)
    good = await gateway.Authorize(
        pb.AuthorizeRequest(station_id="CP-1", id_token="4711", token_type="KeyCode")
    )
    wrong = await gateway.Authorize(
        pb.AuthorizeRequest(station_id="CP-1", id_token="0000", token_type="KeyCode")
    )
    assert (good.status, wrong.status) == (
        pb.AUTHORIZATION_STATUS_ACCEPTED,
        pb.AUTHORIZATION_STATUS_INVALID,
    )
