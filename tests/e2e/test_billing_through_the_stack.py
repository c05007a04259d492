"""Sessions become CDRs through the whole stack: simulator -> gateway -> broker -> session ->
billing, with tariffs set up by the operator's CLI and costs checked against a hand computation
from what the station measured.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest
from aiokafka import AIOKafkaConsumer

from chargegrid.api.billing.v1 import billing_pb2 as billing_pb
from chargegrid.api.billing.v1 import billing_pb2_grpc as billing_grpc
from chargegrid.api.gateway.v1 import station_control_pb2 as control_pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as control_grpc
from chargegrid.api.ocpp.v1.frames_pb2 import OcppFrame
from chargegrid.api.session.v1 import session_pb2 as session_pb
from chargegrid.api.session.v1 import session_pb2_grpc as session_grpc
from chargegrid.platform.bus import decode, unpack
from chargegrid.platform.bus.topics import OCPP_FRAMES
from chargegrid.platform.grpc import create_channel
from chargegrid.simulator import EVSpec, StationConfig, StopReason, create_station
from tests.e2e.conftest import Stack

BERLIN = ZoneInfo("Europe/Berlin")
CENT = Decimal("0.01")


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    # Every meter value becomes a point of the billing timeline (default: one per 30 s).
    running = Stack(
        tmp_path_factory.mktemp("billing"), env={"CHARGEGRID_SESSION_UPDATE_INTERVAL_S": "0"}
    )
    try:
        await asyncio.to_thread(running.wait_for_output, "admin API token")
        running.cli("tokens", "add", "BILLTAG")
        yield running
    finally:
        running.stop()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6].upper()}"


def add_tariff(stack: Stack, tmp_path: Path, station_id: str, tariff: dict[str, Any]) -> None:
    tariff_id = unique("T")
    path = tmp_path / f"{tariff_id}.json"
    path.write_text(json.dumps({"id": tariff_id, "currency": "EUR", **tariff}))
    stack.cli("tariffs", "add", str(path))
    stack.cli(
        "tariffs", "assign", tariff_id, "--station", station_id, "--from", "2020-01-01T00:00:00Z"
    )


async def charge_and_bill(
    stack: Stack,
    version: str,
    station_id: str,
    seconds: float,
    clock: Callable[[], datetime] | None = None,
    park_s: float = 0,
    displayed: dict[str, Decimal] | None = None,
) -> tuple[session_pb.Session, billing_pb.Cdr, float]:
    """One full session; returns what the session service and billing made of it, and the
    energy the simulated station delivered. `displayed` receives the running costs the
    station was sent (CostUpdated), by transaction id."""
    config = StationConfig(station_id=station_id, meter_interval_s=0.5, time_scale=1.0)
    station = create_station(version, config, stack.ocpp_url, **({"clock": clock} if clock else {}))
    await station.start()
    try:
        await station.wait_registered(20)
        session = station.plug_in(
            1, ev=EVSpec(capacity_kwh=80, max_power_w=11_000), id_tag="BILLTAG"
        )
        await asyncio.wait_for(session.transaction_started.wait(), 20)
        await asyncio.sleep(seconds)
        if park_s:
            await limit_to_zero(stack, station_id, (clock or (lambda: datetime.now(UTC)))())
            await asyncio.sleep(park_s)
        session.request_stop(StopReason.LOCAL)
        await asyncio.wait_for(session.finished.wait(), 20)
        delivered_wh, transaction_id = session.energy_wh, session.transaction_id
        if displayed is not None:
            displayed.update(station.displayed_cost)
    finally:
        await station.stop()
    session_id = f"{station_id}:{transaction_id}"
    channel = create_channel(stack.address("billing"), token=stack.admin_token)
    sessions_channel = create_channel(stack.address("session"), token=stack.admin_token)
    try:
        billing = billing_grpc.BillingStub(channel)
        async with asyncio.timeout(60):
            while True:
                try:
                    cdr = await billing.GetCdr(billing_pb.GetCdrRequest(session_id=session_id))
                    break
                except grpc.aio.AioRpcError as exc:
                    if exc.code() != grpc.StatusCode.NOT_FOUND:
                        raise
                    await asyncio.sleep(0.5)
        stored = await session_grpc.SessionsStub(sessions_channel).GetSession(
            session_pb.GetSessionRequest(session_id=session_id)
        )
    finally:
        await channel.close()
        await sessions_channel.close()
    return stored, cdr, delivered_wh


async def limit_to_zero(stack: Stack, station_id: str, now: datetime) -> None:
    """A 0 A station limit through the gateway: the car stays plugged in without charging."""
    channel = create_channel(stack.address("gateway"), token=stack.admin_token)
    profile = control_pb.ChargingProfile(
        id=7,
        stack_level=1,
        purpose=control_pb.CHARGING_PROFILE_PURPOSE_STATION_MAX,
        kind="Absolute",
        schedule=control_pb.ChargingSchedule(
            id=7, rate_unit="A", periods=[control_pb.ChargingSchedulePeriod(limit=0)]
        ),
    )
    profile.schedule.start_schedule.FromDatetime(now - timedelta(minutes=1))
    try:
        reply = await control_grpc.StationControlStub(channel).SetChargingProfile(
            control_pb.SetChargingProfileRequest(station_id=station_id, profile=profile)
        )
    finally:
        await channel.close()
    assert reply.status == "Accepted", reply


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_energy_only_tariff_bills_the_measured_energy(
    stack: Stack, tmp_path: Path, version: str
) -> None:
    station_id = unique(f"BE{version.replace('.', '')}")
    add_tariff(
        stack,
        tmp_path,
        station_id,
        {
            "vat_percent": "19",
            "elements": [
                {"price_components": [{"type": "PRICE_COMPONENT_TYPE_ENERGY", "price": "0.30"}]}
            ],
        },
    )
    displayed: dict[str, Decimal] = {}
    session, cdr, delivered_wh = await charge_and_bill(
        stack, version, station_id, 3, displayed=displayed
    )
    assert session.status == session_pb.SESSION_STATUS_COMPLETED
    assert session.energy_wh == pytest.approx(delivered_wh, abs=1)
    assert delivered_wh > 0
    kwh = Decimal(cdr.energy_kwh)
    assert float(kwh) * 1000 == pytest.approx(delivered_wh, abs=1)
    assert Decimal(cdr.cost.total_excl_vat) == money(kwh * Decimal("0.30"))
    assert Decimal(cdr.cost.total_incl_vat) == money(kwh * Decimal("0.30") * Decimal("1.19"))
    assert cdr.cost.currency == "EUR"
    duration = cdr.ended_at.ToDatetime() - cdr.started_at.ToDatetime()
    assert 2 <= duration.total_seconds() <= 15
    if version == "2.0.1":  # the station was told the running cost as it charged
        costs = await total_costs_told(stack, station_id)
        assert costs, "no TransactionEvent answer carried totalCost"
        assert costs == sorted(costs)
        assert max(costs) <= float(cdr.cost.total_incl_vat)
        # ... and between those, by CostUpdated from billing.
        shown = displayed.get(session.transaction_id)
        assert shown is not None, "billing sent no CostUpdated"
        assert 0 <= shown <= Decimal(cdr.cost.total_incl_vat)
    else:  # 1.6 has no CostUpdated
        assert displayed == {}


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_energy_and_time_with_step_sizes(stack: Stack, tmp_path: Path, version: str) -> None:
    station_id = unique(f"BT{version.replace('.', '')}")
    add_tariff(
        stack,
        tmp_path,
        station_id,
        {
            "vat_percent": "0",
            "elements": [
                {
                    "price_components": [
                        {"type": "PRICE_COMPONENT_TYPE_ENERGY", "price": "0.25", "step_size": 1000},
                        {"type": "PRICE_COMPONENT_TYPE_TIME", "price": "2.00", "step_size": 900},
                    ]
                }
            ],
        },
    )
    session, cdr, delivered_wh = await charge_and_bill(stack, version, station_id, 3)
    # Steps round each total up: energy to whole kWh, charging time to quarters of an hour.
    billed_kwh = math.ceil(delivered_wh / 1000)
    billed_hours = Decimal(math.ceil(session.charging_s / 900) * 900) / 3600
    expected = money(Decimal(billed_kwh) * Decimal("0.25") + billed_hours * Decimal("2.00"))
    assert session.charging_s > 0
    assert Decimal(cdr.cost.total_excl_vat) == expected
    assert Decimal(cdr.cost.total_incl_vat) == expected
    by_type = {line.type for line in cdr.cost.lines}
    assert by_type == {
        billing_pb.PRICE_COMPONENT_TYPE_ENERGY,
        billing_pb.PRICE_COMPONENT_TYPE_TIME,
    }


async def test_a_time_of_day_switch_mid_session_prices_each_side(
    stack: Stack, tmp_path: Path
) -> None:
    """The station's clock runs 60x from 17:58:30 Berlin (tomorrow): four real seconds of
    charging span 18:00, where the price per kWh doubles."""
    station_id, site_id = unique("BTOD"), unique("SITE")
    # The site's time zone is what restrictions are read in.
    stack.cli("sites", "add", "Berlin depot", "--id", site_id, "--timezone", "Europe/Berlin")
    stack.cli("stations", "add", station_id, "--site", site_id)
    add_tariff(
        stack,
        tmp_path,
        station_id,
        {
            "vat_percent": "0",
            "elements": [
                {
                    "price_components": [{"type": "PRICE_COMPONENT_TYPE_ENERGY", "price": "0.20"}],
                    "restrictions": {"start_time": "00:00", "end_time": "18:00"},
                },
                {
                    "price_components": [{"type": "PRICE_COMPONENT_TYPE_ENERGY", "price": "0.40"}],
                    "restrictions": {"start_time": "18:00", "end_time": "00:00"},
                },
            ],
        },
    )
    tomorrow = datetime.now(BERLIN).date() + timedelta(days=1)
    switch = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 18, tzinfo=BERLIN)
    start, started = switch - timedelta(seconds=90), monotonic()

    def clock() -> datetime:
        return (start + timedelta(seconds=(monotonic() - started) * 60)).astimezone(UTC)

    session, cdr, _ = await charge_and_bill(stack, "2.0.1", station_id, 4, clock)
    assert cdr.timezone == "Europe/Berlin"
    readings = await register_readings(stack, session.id)
    assert readings[0][0] < switch.astimezone(UTC) < readings[-1][0]
    before, after = split_energy_at(readings, switch.astimezone(UTC))
    expected = money(before / 1000 * Decimal("0.20") + after / 1000 * Decimal("0.40"))
    assert before > 0
    assert after > 0
    assert Decimal(cdr.cost.total_excl_vat) == expected
    prices = {line.unit_price for line in cdr.cost.lines}
    assert {Decimal(p) for p in prices} == {Decimal("0.20"), Decimal("0.40")}


async def test_flat_fee_plus_parking_while_the_car_waits(stack: Stack, tmp_path: Path) -> None:
    """Charging, then a 0 A limit keeps the car plugged in without power for about three
    (simulated) minutes: a flat fee plus parking per started minute."""
    station_id = unique("BPARK")
    add_tariff(
        stack,
        tmp_path,
        station_id,
        {
            "vat_percent": "0",
            "elements": [
                {
                    "price_components": [
                        {"type": "PRICE_COMPONENT_TYPE_FLAT", "price": "1.00"},
                        {
                            "type": "PRICE_COMPONENT_TYPE_PARKING_TIME",
                            "price": "6.00",
                            "step_size": 60,
                        },
                    ]
                }
            ],
        },
    )
    start, started = datetime.now(UTC), monotonic()

    def clock() -> datetime:
        return start + timedelta(seconds=(monotonic() - started) * 60)

    session, cdr, _ = await charge_and_bill(stack, "2.0.1", station_id, 2, clock, park_s=3)
    total_s = (cdr.ended_at.ToDatetime() - cdr.started_at.ToDatetime()).total_seconds()
    assert cdr.parking_time_s == int(total_s) - session.charging_s
    assert 120 <= cdr.parking_time_s <= 300  # ~3 real seconds at 60x
    minutes = math.ceil(cdr.parking_time_s / 60)
    expected = money(Decimal("1.00") + Decimal(minutes) / 60 * Decimal("6.00"))
    assert Decimal(cdr.cost.total_excl_vat) == expected


async def total_costs_told(stack: Stack, station_id: str) -> list[float]:
    """totalCost of every TransactionEvent answer the gateway sent `station_id` (from the
    audit topic of exchanges), in order."""
    consumer = AIOKafkaConsumer(
        OCPP_FRAMES,
        bootstrap_servers=stack.bootstrap,
        group_id=f"e2e-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    costs: list[float] = []
    try:
        idle = 0
        while idle < 4:
            batch = await consumer.getmany(timeout_ms=500)
            idle = 0 if batch else idle + 1
            for records in batch.values():
                for record in records:
                    envelope = decode(record.value)
                    if envelope.station_id != station_id:
                        continue
                    frame = unpack(envelope, OcppFrame)
                    if frame.action == "TransactionEvent" and frame.reply_raw:
                        answer = json.loads(frame.reply_raw)[2]
                        if "totalCost" in answer:
                            costs.append(float(answer["totalCost"]))
    finally:
        await consumer.stop()
    return costs


async def register_readings(stack: Stack, session_id: str) -> list[tuple[datetime, Decimal]]:
    """(time, energy register Wh) as the station reported them, in time order."""
    channel = create_channel(stack.address("session"), token=stack.admin_token)
    try:
        reply = await session_grpc.SessionsStub(channel).MeterSamples(
            session_pb.MeterSamplesRequest(
                session_id=session_id, measurand="Energy.Active.Import.Register"
            )
        )
    finally:
        await channel.close()
    readings = sorted(
        (s.timestamp.ToDatetime(tzinfo=UTC), Decimal(str(s.value)))
        for s in reply.samples
        if not s.phase
    )
    assert len(readings) >= 3, readings
    return readings


def split_energy_at(
    readings: list[tuple[datetime, Decimal]], moment: datetime
) -> tuple[Decimal, Decimal]:
    """Energy before and after `moment`, interpolating linearly between the two readings
    around it (the meter is read every 30 simulated seconds)."""
    first, last = readings[0][1], readings[-1][1]
    for (t0, e0), (t1, e1) in itertools.pairwise(readings):
        if t0 <= moment <= t1:
            fraction = Decimal((moment - t0).total_seconds()) / Decimal((t1 - t0).total_seconds())
            at_moment = e0 + (e1 - e0) * fraction
            return at_moment - first, last - at_moment
    raise AssertionError("no readings around the moment")
