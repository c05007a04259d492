"""The Billing API keeps the product's identifier rules and text limits: a bad id or an
over-long display text is INVALID_ARGUMENT naming the field, and nothing is stored."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from chargegrid.api.billing.v1 import billing_pb2 as pb
from tests.integration.billing.conftest import Api
from tests.integration.billing.test_api import a_tariff_proto


async def refused(call: Any) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return caught.value.details() or ""


async def stored_tariffs(stub: Any) -> list[str]:
    return [t.id for t in (await stub.ListTariffs(pb.ListTariffsRequest())).tariffs]


@pytest.mark.parametrize("tariff_id", ["a/b", "T" * 37, "std rate", "tarifé"])
async def test_a_tariff_id_breaking_the_record_id_rule_is_refused(api: Api, tariff_id: str) -> None:
    stub = api.as_role()

    details = await refused(
        stub.CreateTariff(pb.CreateTariffRequest(tariff=a_tariff_proto(id=tariff_id)))
    )

    assert details.startswith("tariff.id ")
    assert "1-36 characters" in details
    assert await stored_tariffs(stub) == []


async def test_a_display_text_over_1000_characters_is_refused(api: Api) -> None:
    stub = api.as_role()
    tariff = a_tariff_proto(display_text="x" * 1001)

    details = await refused(stub.CreateTariff(pb.CreateTariffRequest(tariff=tariff)))

    assert details == "display_text is longer than 1000 characters (1001 given)"
    assert await stored_tariffs(stub) == []


@pytest.mark.parametrize(
    ("target", "field"),
    [
        (pb.AssignmentTarget(station_id="a/b"), "target.station_id"),
        (pb.AssignmentTarget(site_id="s" * 37), "target.site_id"),
        (pb.AssignmentTarget(token_group="FLEET\x00"), "target.token_group"),
    ],
)
async def test_an_assignment_to_an_id_breaking_its_rule_is_refused(
    api: Api, target: pb.AssignmentTarget, field: str
) -> None:
    stub = api.as_role()
    await stub.CreateTariff(pb.CreateTariffRequest(tariff=a_tariff_proto()))

    details = await refused(
        stub.AssignTariff(pb.AssignTariffRequest(tariff_id="EVENING", target=target))
    )

    assert details.startswith(f"{field} ")
    listed = await stub.ListAssignments(pb.ListAssignmentsRequest(tariff_id="EVENING"))
    assert list(listed.assignments) == []


async def test_an_estimate_for_a_station_id_breaking_the_rule_is_refused(api: Api) -> None:
    request = pb.EstimateCostRequest(station_id="CP 1", transaction_id="1")

    details = await refused(api.as_role().EstimateCost(request))

    assert details.startswith("station_id must be only")


async def test_a_tariff_of_more_than_100_elements_is_refused(api: Api) -> None:
    stub = api.as_role()
    tariff = a_tariff_proto()
    element = tariff.elements[1]
    del tariff.elements[:]
    tariff.elements.extend([element] * 101)

    details = await refused(stub.CreateTariff(pb.CreateTariffRequest(tariff=tariff)))

    assert details == "elements: at most 100 elements"
    assert await stored_tariffs(stub) == []


async def test_a_decimal_longer_than_its_column_is_refused(api: Api) -> None:
    stub = api.as_role()
    tariff = a_tariff_proto(vat_percent="9." + "9" * 40)

    details = await refused(stub.CreateTariff(pb.CreateTariffRequest(tariff=tariff)))

    assert details == "vat_percent: at most 40 characters"
