"""Requests that are not what the method takes: corrupt protobuf bytes sent with a generic
channel call to the real Stations server answer INVALID_ARGUMENT naming the message, after
auth, with no internal class name, and change nothing."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.grpc import Role
from tests.integration.stations.conftest import Api

SERVICE = "/chargegrid.api.stations.v1.Stations"
CORRUPT = b"\x0a\xff\xff\xff\xff\x0f"  # field 1, a length that runs past the end


async def raw_call(api: Api, method: str, data: bytes, role: Role | None) -> grpc.aio.AioRpcError:
    metadata = [("authorization", f"Bearer {api.tokens[role]}")] if role else []
    async with grpc.aio.insecure_channel(api.target) as channel:
        call: Any = channel.unary_unary(
            f"{SERVICE}/{method}", request_serializer=None, response_deserializer=None
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(data, metadata=metadata, timeout=5)
    return refused.value


async def raw_stream(api: Api, method: str, data: bytes, role: Role) -> grpc.aio.AioRpcError:
    metadata = [("authorization", f"Bearer {api.tokens[role]}")]
    async with grpc.aio.insecure_channel(api.target) as channel:
        call: Any = channel.unary_stream(
            f"{SERVICE}/{method}", request_serializer=None, response_deserializer=None
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            async for _ in call(data, metadata=metadata, timeout=5):
                pass
    return refused.value


async def test_corrupt_bytes_are_an_invalid_argument_naming_the_message(api: Api) -> None:
    refused = await raw_call(api, "CreateSite", CORRUPT, Role.OPERATOR)

    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.details() == "request is not a valid CreateSiteRequest"
    sites = await api.as_role(Role.VIEWER).ListSites(pb.ListSitesRequest())
    assert list(sites.sites) == []


async def test_invalid_utf8_in_a_string_field_is_an_invalid_argument(api: Api) -> None:
    not_utf8 = b"\x0a\x02\xc3\x28"  # station_id (field 1): two bytes that are not UTF-8
    refused = await raw_call(api, "GetStation", not_utf8, Role.VIEWER)

    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.details() == "request is not a valid GetStationRequest"


async def test_corrupt_bytes_from_a_caller_without_token_are_unauthenticated(api: Api) -> None:
    refused = await raw_call(api, "CreateSite", CORRUPT, None)

    assert refused.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_a_streaming_method_refuses_corrupt_bytes_too(api: Api) -> None:
    refused = await raw_stream(api, "WatchStatus", CORRUPT, Role.VIEWER)

    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.details() == "request is not a valid WatchStatusRequest"


@pytest.mark.parametrize("data", [CORRUPT, b"\x0a\x02\xc3\x28", b"\xff" * 64])
async def test_no_refusal_names_an_internal_class(api: Api, data: bytes) -> None:
    refused = await raw_call(api, "UpdateSite", data, Role.OPERATOR)

    details = refused.details() or ""
    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    for internal in ("class", "Error", "Traceback"):
        assert internal not in details


@pytest.mark.parametrize(("seconds", "nanos"), [(-(2**63), 0), (253_402_300_800, 0), (0, -1)])
async def test_a_timestamp_outside_its_type_is_an_invalid_argument_not_internal(
    api: Api, seconds: int, nanos: int
) -> None:
    request = pb.CreateReservationRequest(station_id="CP-1", id_token="TAG")
    request.expiry.seconds, request.expiry.nanos = seconds, nanos
    refused = await raw_call(api, "CreateReservation", request.SerializeToString(), Role.OPERATOR)

    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.details() == (
        "request is not a valid CreateReservationRequest: expiry is not a valid Timestamp"
        " (years 1-9999)"
    )


@pytest.mark.parametrize("days", [36_501, 2**31 - 1, -1])
async def test_an_expiry_window_beyond_a_century_is_an_invalid_argument_not_internal(
    api: Api, days: int
) -> None:
    request = pb.ListIssuedCertificatesRequest(expiring_within_days=days)
    refused = await raw_call(
        api, "ListIssuedCertificates", request.SerializeToString(), Role.OPERATOR
    )

    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.details() == "expiring_within_days must lie between 0 and 36500"
