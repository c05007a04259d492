"""The simulator's id tokens, created by `chargegrid dev` so that `chargegrid sim --sessions`
charges out of the box.

Simulated drivers present SIMTAG0001..SIMTAG0100 (`chargegrid.simulator.SIMULATOR_ID_TAGS`);
the authorization service refuses unknown tokens. Only missing ones are created: a token the
operator blocked or changed stays as it is.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import grpc

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.api.authorization.v1.authorization_pb2_grpc import AuthorizationStub
from chargegrid.cli.api import paged
from chargegrid.platform.grpc.client import create_channel

OWNER = "chargegrid-simulator"


def simulator_token(id_token: str) -> pb.Token:
    return pb.Token(
        id_token=id_token,
        type=pb.TOKEN_TYPE_ISO14443,
        status=pb.AUTHORIZATION_STATUS_ACCEPTED,
        owner_ref=OWNER,
    )


async def missing_tokens(channel: grpc.aio.Channel, wanted: Sequence[str]) -> list[str]:
    """The ids of `wanted` the authorization service does not hold (as any type)."""
    stub = AuthorizationStub(channel)
    # One listing for all of them, by their shared prefix (character-wise is what is meant).
    prefix = os.path.commonprefix(list(wanted))  # noqa: RUF071
    listed = await paged(stub.ListTokens, pb.ListTokensRequest(id_prefix=prefix), "tokens", 500)
    held = {token.id_token for token in listed}
    return [id_token for id_token in wanted if id_token not in held]


async def ensure_simulator_tokens(
    target: str, admin_token: str, wanted: Sequence[str]
) -> list[str]:
    """Create the tokens of `wanted` that do not exist yet; return the ids created."""
    channel = create_channel(target, token=admin_token, default_timeout_s=30)
    try:
        missing = await missing_tokens(channel, wanted)
        if missing:
            request = pb.ImportTokensRequest(tokens=[simulator_token(t) for t in missing])
            await AuthorizationStub(channel).ImportTokens(request)
        return missing
    finally:
        await channel.close()
