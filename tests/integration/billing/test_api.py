"""The Billing API over real gRPC: tariffs, assignments, estimates and CDRs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import grpc
import pytest

from chargegrid.api.billing.v1 import billing_pb2 as pb
from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.billing.handlers import SessionEvents
from chargegrid.platform.bus.envelope import set_timestamp
from chargegrid.platform.grpc import Role
from tests.integration.billing.builders import START, FakeClock, a_session, closed, opened, updated
from tests.integration.billing.conftest import Api

ENERGY = pb.PRICE_COMPONENT_TYPE_ENERGY
TIME = pb.PRICE_COMPONENT_TYPE_TIME


def a_tariff_proto(**overrides: Any) -> pb.Tariff:
    tariff = pb.Tariff(
        id="EVENING",
        currency="EUR",
        vat_percent="19",
        elements=[
            pb.TariffElement(
                price_components=[pb.PriceComponent(type=ENERGY, price="0.20")],
                restrictions=pb.TariffRestrictions(start_time="00:00", end_time="18:00"),
            ),
            pb.TariffElement(
                price_components=[
                    pb.PriceComponent(type=ENERGY, price="0.40", step_size=1000),
                    pb.PriceComponent(type=TIME, price="1.00", step_size=900),
                ],
            ),
        ],
    )
    for name, value in overrides.items():
        setattr(tariff, name, value)
    return tariff


async def assert_refused(call: Any, code: grpc.StatusCode, text: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    assert info.value.code() == code
    assert text in (info.value.details() or "")


async def test_a_tariff_is_created_versioned_and_read_back(api: Api, clock: FakeClock) -> None:
    stub = api.as_role()
    created = await stub.CreateTariff(pb.CreateTariffRequest(tariff=a_tariff_proto()))
    assert (created.id, created.version) == ("EVENING", 1)
    assert created.elements[1].price_components[0].step_size == 1000
    changed = a_tariff_proto(vat_percent="7")
    set_timestamp(changed.effective_from, START + timedelta(days=1))
    second = await stub.UpdateTariff(pb.UpdateTariffRequest(tariff=changed))
    assert (second.version, second.vat_percent) == (2, "7")
    newest = await stub.GetTariff(pb.GetTariffRequest(tariff_id="EVENING"))
    first = await stub.GetTariff(pb.GetTariffRequest(tariff_id="EVENING", version=1))
    assert (newest.version, first.vat_percent) == (2, "19")
    assert first.elements[0].restrictions.end_time == "18:00"


async def test_tariffs_are_listed_newest_version_each_in_pages(api: Api) -> None:
    stub = api.as_role()
    for name in ("A", "B", "C"):
        await stub.CreateTariff(pb.CreateTariffRequest(tariff=a_tariff_proto(id=name)))
    await stub.UpdateTariff(pb.UpdateTariffRequest(tariff=a_tariff_proto(id="B")))
    first = await stub.ListTariffs(pb.ListTariffsRequest(page=PageRequest(page_size=2)))
    assert [(t.id, t.version) for t in first.tariffs] == [("A", 1), ("B", 2)]
    rest = await stub.ListTariffs(
        pb.ListTariffsRequest(page=PageRequest(page_size=2, page_token=first.next_page_token))
    )
    assert [t.id for t in rest.tariffs] == ["C"]
    assert rest.next_page_token == ""


BAD_TARIFFS = [
    ({"currency": "euro"}, "currency"),
    ({"vat_percent": "abc"}, "vat_percent: not a decimal"),
    ({"vat_percent": "120"}, "between 0 and 100"),
    ({"id": "bad id!"}, "tariff.id"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_TARIFFS)
async def test_a_bad_tariff_is_refused_and_nothing_is_stored(
    api: Api, overrides: dict[str, str], message: str
) -> None:
    stub = api.as_role()
    await assert_refused(
        stub.CreateTariff(pb.CreateTariffRequest(tariff=a_tariff_proto(**overrides))),
        grpc.StatusCode.INVALID_ARGUMENT,
        message,
    )
    listed = await stub.ListTariffs(pb.ListTariffsRequest())
    assert list(listed.tariffs) == []


@pytest.mark.parametrize(
    ("component", "restrictions", "message"),
    [
        (pb.PriceComponent(type=ENERGY, price="-0.30"), None, "must not be negative"),
        (pb.PriceComponent(type=ENERGY, price="0,30"), None, "not a decimal"),
        (pb.PriceComponent(type=ENERGY, price=""), None, "price: required"),
        (pb.PriceComponent(type=9, price="1"), None, "unknown price component type"),  # type: ignore[arg-type]
        (pb.PriceComponent(type=0, price="1"), None, "unknown price component type"),
        (pb.PriceComponent(type=TIME, price="1", step_size=-5), None, "step_size"),
        (None, pb.TariffRestrictions(start_time="25:00"), "expected HH:MM"),
        (None, pb.TariffRestrictions(start_time="7:30"), "expected HH:MM"),
        (None, pb.TariffRestrictions(start_date="2026-13-01"), "expected YYYY-MM-DD"),
        (None, pb.TariffRestrictions(min_kwh="20", max_kwh="10"), "min_kwh must be below"),
        (None, pb.TariffRestrictions(day_of_week=[8]), "unknown day"),  # type: ignore[list-item]
        (None, pb.TariffRestrictions(min_duration_s=-1), "must not be negative"),
    ],
)
async def test_bad_components_and_restrictions_name_the_field(
    api: Api, component: pb.PriceComponent | None, restrictions: Any, message: str
) -> None:
    element = pb.TariffElement(
        price_components=[component or pb.PriceComponent(type=ENERGY, price="0.3")],
        restrictions=restrictions,
    )
    tariff = a_tariff_proto()
    tariff.elements.append(element)
    await assert_refused(
        api.as_role().CreateTariff(pb.CreateTariffRequest(tariff=tariff)),
        grpc.StatusCode.INVALID_ARGUMENT,
        message,
    )


async def test_creating_twice_or_updating_a_missing_tariff_is_refused(api: Api) -> None:
    stub = api.as_role()
    await stub.CreateTariff(pb.CreateTariffRequest(tariff=a_tariff_proto()))
    await assert_refused(
        stub.CreateTariff(pb.CreateTariffRequest(tariff=a_tariff_proto())),
        grpc.StatusCode.ALREADY_EXISTS,
        "UpdateTariff",
    )
    await assert_refused(
        stub.UpdateTariff(pb.UpdateTariffRequest(tariff=a_tariff_proto(id="NOPE"))),
        grpc.StatusCode.NOT_FOUND,
        "NOPE",
    )
    await assert_refused(
        stub.GetTariff(pb.GetTariffRequest(tariff_id="EVENING", version=7)),
        grpc.StatusCode.NOT_FOUND,
        "version 7",
    )


async def test_assignments_need_a_known_tariff_and_one_target(api: Api) -> None:
    stub = api.as_role()
    await stub.CreateTariff(pb.CreateTariffRequest(tariff=a_tariff_proto()))
    made = await stub.AssignTariff(
        pb.AssignTariffRequest(tariff_id="EVENING", target=pb.AssignmentTarget(site_id="S1"))
    )
    await stub.AssignTariff(
        pb.AssignTariffRequest(tariff_id="EVENING", target=pb.AssignmentTarget(default=True))
    )
    listed = await stub.ListAssignments(pb.ListAssignmentsRequest(tariff_id="EVENING"))
    assert [a.target.WhichOneof("target") for a in listed.assignments] == ["site_id", "default"]
    assert made.target.site_id == "S1"
    await assert_refused(
        stub.AssignTariff(
            pb.AssignTariffRequest(tariff_id="GHOST", target=pb.AssignmentTarget(default=True))
        ),
        grpc.StatusCode.NOT_FOUND,
        "GHOST",
    )
    await assert_refused(
        stub.AssignTariff(pb.AssignTariffRequest(tariff_id="EVENING")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "target",
    )


async def test_a_viewer_cannot_create_tariffs(api: Api) -> None:
    await assert_refused(
        api.as_role(Role.VIEWER).CreateTariff(pb.CreateTariffRequest(tariff=a_tariff_proto())),
        grpc.StatusCode.PERMISSION_DENIED,
        "",
    )


async def test_the_running_cost_of_an_active_session_needs_no_other_service(
    api: Api, events: SessionEvents, clock: FakeClock
) -> None:
    stub = api.as_role()
    await stub.CreateTariff(pb.CreateTariffRequest(tariff=a_tariff_proto(vat_percent="0")))
    await stub.AssignTariff(
        pb.AssignTariffRequest(tariff_id="EVENING", target=pb.AssignmentTarget(default=True))
    )
    await events(opened(a_session()))
    half = START + timedelta(minutes=30)  # 18:00 in Berlin
    await events(updated(a_session(updated_at=half, energy_wh=11000, power_w=22000)))
    clock.now = half
    estimate = await stub.EstimateCost(
        pb.EstimateCostRequest(station_id="CP-1", transaction_id="tx-1")
    )
    # Energy until 18:00 at 0.20; TIME comes from the only element that prices it.
    assert [line.amount_excl_vat for line in estimate.lines] == ["2.2000", "0.5000"]
    assert estimate.total_incl_vat == "2.7000"
    clock.now = half + timedelta(minutes=15)  # continued at 22 kW: 5.5 kWh more at 0.40
    estimate = await stub.EstimateCost(pb.EstimateCostRequest(session_id="CP-1:tx-1"))
    # 2.20 + 6 kWh x 0.40 (16.5 kWh stepped up to 17) + 0.75 h x 1.00
    assert estimate.total_excl_vat == "5.3500"
    await assert_refused(
        stub.EstimateCost(pb.EstimateCostRequest(session_id="CP-9:nope")),
        grpc.StatusCode.NOT_FOUND,
        "CP-9:nope",
    )
    await assert_refused(
        stub.EstimateCost(pb.EstimateCostRequest(station_id="CP-1")),
        grpc.StatusCode.INVALID_ARGUMENT,
        "transaction_id",
    )


async def test_cdrs_are_found_by_id_session_and_filters_in_pages(
    api: Api, events: SessionEvents
) -> None:
    for n in range(5):
        station = "CP-1" if n % 2 == 0 else "CP-2"
        start = START + timedelta(hours=n)
        await events(
            closed(
                a_session(
                    station,
                    f"tx-{n}",
                    started_at=start,
                    ended_at=start + timedelta(minutes=30),
                    energy_wh=1000,
                )
            )
        )
    stub = api.as_role(Role.VIEWER)
    by_session = await stub.GetCdr(pb.GetCdrRequest(session_id="CP-2:tx-1"))
    by_id = await stub.GetCdr(pb.GetCdrRequest(cdr_id=by_session.id))
    assert by_id.session_id == "CP-2:tx-1"
    assert by_id.energy_kwh == "1"
    page = await stub.ListCdrs(pb.ListCdrsRequest(station_id="CP-1", page=PageRequest(page_size=2)))
    assert (len(page.cdrs), page.total) == (2, 3)
    rest = await stub.ListCdrs(
        pb.ListCdrsRequest(
            station_id="CP-1", page=PageRequest(page_size=2, page_token=page.next_page_token)
        )
    )
    assert [c.session_id for c in rest.cdrs] == ["CP-1:tx-4"]
    since = pb.ListCdrsRequest()
    set_timestamp(since.since, START + timedelta(hours=3))
    assert [c.session_id for c in (await stub.ListCdrs(since)).cdrs] == ["CP-2:tx-3", "CP-1:tx-4"]
    await assert_refused(
        stub.ListCdrs(pb.ListCdrsRequest(page=PageRequest(page_size=1001))),
        grpc.StatusCode.INVALID_ARGUMENT,
        "page_size",
    )
    await assert_refused(
        stub.ListCdrs(pb.ListCdrsRequest(page=PageRequest(page_token="garbage!"))),
        grpc.StatusCode.INVALID_ARGUMENT,
        "page_token",
    )
    await assert_refused(
        stub.GetCdr(pb.GetCdrRequest(cdr_id="nope")), grpc.StatusCode.NOT_FOUND, "nope"
    )
