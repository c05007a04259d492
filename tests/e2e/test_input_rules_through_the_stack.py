"""The product's input rules through the whole `make run` stack: the gateway process refuses
station ids the APIs would refuse, the CLI and the services refuse id tokens no station can
send and over-long text, and a corrupt protobuf request is INVALID_ARGUMENT."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.e2e.conftest import Stack


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("rules"))
    try:
        await asyncio.to_thread(running.wait_for_output, "admin API token")
        yield running
    finally:
        running.stop()


@pytest.mark.parametrize("encoded_id", ["a%2Fb", "CP%C3%A9", "CP%2001", "C" * 49])
async def test_the_gateway_refuses_a_station_id_the_api_would_refuse(
    stack: Stack, encoded_id: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with websockets.connect(f"{stack.ocpp_url}/{encoded_id}", subprotocols=["ocpp1.6"]):
            pass

    assert refused.value.response.status_code == 400
    listed = json.loads(stack.cli("stations", "list", "--json").stdout)
    assert listed == []


async def test_an_id_token_no_station_can_send_is_refused_and_not_stored(stack: Stack) -> None:
    done = stack.cli("tokens", "add", "T" * 37, check=False)

    assert done.returncode != 0
    assert "longer than 36 characters" in done.stdout + done.stderr
    stored = [t["id_token"] for t in json.loads(stack.cli("tokens", "list", "--json").stdout)]
    assert not [t for t in stored if t.startswith("TTTT")]


async def test_a_100000_character_site_name_is_refused(stack: Stack) -> None:
    done = stack.cli("sites", "add", "x" * 100_000, "--id", "big", check=False)

    assert done.returncode != 0
    assert "site.name is longer than 255 characters" in done.stdout + done.stderr
    assert json.loads(stack.cli("sites", "list", "--json").stdout) == []


async def test_a_corrupt_request_to_a_service_process_is_an_invalid_argument(
    stack: Stack,
) -> None:
    async with grpc.aio.insecure_channel(stack.address("stations")) as channel:
        create_site: Any = channel.unary_unary(
            "/chargegrid.api.stations.v1.Stations/CreateSite",
            request_serializer=None,
            response_deserializer=None,
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await create_site(
                b"\x0a\xff\xff\xff\xff\x0f",
                metadata=[("authorization", f"Bearer {stack.admin_token}")],
                timeout=10,
            )

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details() == "request is not a valid CreateSiteRequest"
