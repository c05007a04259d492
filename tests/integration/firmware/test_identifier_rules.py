"""The Firmware API keeps the product's identifier rules and the OCPP lengths of what it
sends to stations: bad input is INVALID_ARGUMENT naming the field, nothing is stored and no
command reaches the gateway (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from tests.integration.firmware.conftest import Api, Database, Gateway
from tests.integration.firmware.test_updates_api import image


async def refused(call: Any) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return caught.value.details() or ""


@pytest.mark.parametrize(
    ("overrides", "field", "limit"),
    [
        ({"version": "v" * 51}, "image.version", 50),
        ({"vendor": "v" * 51}, "image.vendor", 50),
        ({"model": "m" * 21}, "image.model", 20),
        ({"location": "https://fw.example/" + "x" * 500}, "image.location", 512),
        (
            {"signing_certificate": "c" * 5501, "signature": "s"},
            "image.signing_certificate",
            5500,
        ),
        ({"signing_certificate": "c", "signature": "s" * 801}, "image.signature", 800),
    ],
)
async def test_an_image_field_over_its_ocpp_length_is_refused_and_nothing_stored(
    api: Api, overrides: dict[str, str], field: str, limit: int
) -> None:
    stub = api.as_role()

    details = await refused(stub.AddImage(pb.AddImageRequest(image=image(**overrides))))

    assert details.startswith(f"{field} is longer than {limit} characters")
    assert list((await stub.ListImages(pb.ListImagesRequest())).images) == []


@pytest.mark.parametrize("station_id", ["a/b", "CPé", "C" * 49])
async def test_an_update_of_a_station_id_the_gateway_refuses_sends_nothing(
    api: Api, db: Database, gateway: Gateway, station_id: str
) -> None:
    request = pb.UpdateStationRequest(station_id=station_id, location="https://fw.example/a.bin")

    details = await refused(api.as_role().UpdateStation(request))

    assert details.startswith("station_id ")
    assert await db.rows() == (0, 0)
    assert gateway.control.updates == []


async def test_a_log_request_for_a_bad_station_id_is_refused(api: Api, gateway: Gateway) -> None:
    details = await refused(api.as_role().RequestLogs(pb.RequestLogsRequest(station_id="CP\n1")))

    assert details.startswith("station_id must be only")
    assert gateway.control.log_requests == []


async def test_a_campaign_naming_a_bad_station_id_creates_nothing(api: Api, db: Database) -> None:
    stub = api.as_role()
    added = await stub.AddImage(pb.AddImageRequest(image=image()))
    campaign = pb.Campaign(image_id=added.id, target=pb.CampaignTarget(station_ids=["CP-1", "a/b"]))

    details = await refused(stub.CreateCampaign(pb.CreateCampaignRequest(campaign=campaign)))

    assert details.startswith("target.station_ids[1] ")
    assert await db.rows() == (0, 0)
