"""Station ids at the real gateway's handshake: the one station-id rule (OCPP 2.0.1
identifierString, at most 48) after percent-decoding, so the gateway never registers a
station the gRPC APIs would refuse; refusals are HTTP 400, counted, and connect nothing."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
import websockets
from prometheus_client import REGISTRY
from websockets.asyncio.client import connect

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc
from chargegrid.gateway.app import GatewayApp
from chargegrid.platform.grpc import create_channel
from tests.integration.gateway.conftest import RunningGateway
from tests.integration.gateway.test_two_replicas import replicas  # noqa: F401


def refused_count() -> float:
    sample = REGISTRY.get_sample_value(
        "chargegrid_gateway_handshakes_refused_total", {"reason": "station_id"}
    )
    return sample or 0.0


async def handshake_status(gateway: RunningGateway, encoded_id: str) -> tuple[int, str]:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(gateway.url(encoded_id), subprotocols=["ocpp1.6"]):
            pass
    response = refused.value.response
    return response.status_code, response.body.decode()


@pytest.mark.parametrize(
    ("encoded_id", "station_id"),
    [
        ("a%2Fb", "a/b"),
        ("CP%C3%A9", "CPé"),
        ("CP%2001", "CP 01"),
        ("CP%00", "CP\x00"),
        ("CP%0A1", "CP\n1"),
        ("%FF%FE", "bad UTF-8"),
        ("C" * 49, "49 characters"),
    ],
)
async def test_a_station_id_the_api_would_refuse_is_refused_at_the_handshake(
    gateway: RunningGateway, encoded_id: str, station_id: str
) -> None:
    before = refused_count()

    status, body = await handshake_status(gateway, encoded_id)

    assert status == 400
    assert body.startswith("station id ")
    assert "1-48 characters" in body
    assert refused_count() == before + 1
    assert gateway.registry.get(station_id) is None


async def test_every_identifier_string_character_is_accepted_up_to_48(
    gateway: RunningGateway,
) -> None:
    station_id = ("Az09*-_=:+|@." * 4)[:48]

    async with connect(gateway.url(station_id), subprotocols=["ocpp1.6"]) as ws:
        await ws.send('[2,"1","Heartbeat",{}]')
        reply = await ws.recv()

    assert reply.startswith('[3,"1"')


async def test_station_control_refuses_a_station_id_the_handshake_refuses(
    replicas: tuple[GatewayApp, GatewayApp, str],  # noqa: F811
) -> None:
    a, _, operator = replicas
    async with create_channel(f"127.0.0.1:{a.grpc_port}", token=operator) as channel:
        stub = pb_grpc.StationControlStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.Reset(pb.ResetRequest(station_id="a/b"))

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (refused.value.details() or "").startswith("station_id must be only")


async def test_station_control_answers_corrupt_bytes_with_invalid_argument(
    replicas: tuple[GatewayApp, GatewayApp, str],  # noqa: F811
) -> None:
    a, _, operator = replicas
    async with grpc.aio.insecure_channel(f"127.0.0.1:{a.grpc_port}") as channel:
        reset: Any = channel.unary_unary(
            "/chargegrid.api.gateway.v1.StationControl/Reset",
            request_serializer=None,
            response_deserializer=None,
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await reset(
                b"\x0a\xff\xff\xff\xff\x0f",
                metadata=[("authorization", f"Bearer {operator}")],
                timeout=5,
            )

    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details() == "request is not a valid ResetRequest"
