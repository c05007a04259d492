"""After the fuzz (this module runs last in tests/fuzz): nothing crashed, the services still
consume and decide, and no stored session holds a corrupt energy.

A normal session in each OCPP version must charge, end and be billed through the same
stack the fuzzers hammered: a stuck partition or a consumer that died on a poisoned record
would leave it ACTIVE or without a CDR.
"""

from __future__ import annotations

import asyncio
import math

import grpc
import pytest

from chargegrid.api.billing.v1 import billing_pb2, billing_pb2_grpc
from chargegrid.api.common.v1 import common_pb2
from chargegrid.api.session.v1 import session_pb2, session_pb2_grpc
from chargegrid.simulator import EVSpec, StationConfig, StopReason, create_station
from tests.fuzz.conftest import FuzzStack


async def _charge(stack: FuzzStack, version: str) -> tuple[str, float]:
    station_id = f"AFTER-{version.replace('.', '')}"
    config = StationConfig(station_id=station_id, meter_interval_s=0.2, time_scale=600.0)
    station = create_station(version, config, stack.ocpp_url)
    await station.start()
    try:
        await station.wait_registered(30)
        session = station.plug_in(
            1, ev=EVSpec(capacity_kwh=60, max_power_w=11_000), id_tag="AFTERTAG"
        )
        await asyncio.wait_for(session.transaction_started.wait(), 30)
        await asyncio.sleep(1.5)
        session.request_stop(StopReason.LOCAL)
        await asyncio.wait_for(session.finished.wait(), 30)
        return f"{station_id}:{session.transaction_id}", session.energy_wh
    finally:
        await station.stop()


async def _settled(
    stack: FuzzStack, session_id: str
) -> tuple[session_pb2.Session, billing_pb2.Cdr]:
    metadata = [("authorization", f"Bearer {stack.admin_token}")]
    async with (
        grpc.aio.insecure_channel(stack.address("session")) as sessions_channel,
        grpc.aio.insecure_channel(stack.address("billing")) as billing_channel,
    ):
        sessions = session_pb2_grpc.SessionsStub(sessions_channel)
        billing = billing_pb2_grpc.BillingStub(billing_channel)
        async with asyncio.timeout(90):
            while True:
                try:
                    found = await sessions.GetSession(
                        session_pb2.GetSessionRequest(session_id=session_id), metadata=metadata
                    )
                    if found.status == session_pb2.SESSION_STATUS_COMPLETED:
                        cdr = await billing.GetCdr(
                            billing_pb2.GetCdrRequest(session_id=session_id), metadata=metadata
                        )
                        return found, cdr
                except grpc.aio.AioRpcError as exc:
                    if exc.code() != grpc.StatusCode.NOT_FOUND:
                        raise
                await asyncio.sleep(0.5)


async def _all_sessions(stack: FuzzStack) -> list[session_pb2.Session]:
    metadata = [("authorization", f"Bearer {stack.admin_token}")]
    found: list[session_pb2.Session] = []
    async with grpc.aio.insecure_channel(stack.address("session")) as channel:
        sessions = session_pb2_grpc.SessionsStub(channel)
        token = ""
        while True:
            page = await sessions.ListSessions(
                session_pb2.ListSessionsRequest(
                    page=common_pb2.PageRequest(page_size=500, page_token=token)
                ),
                metadata=metadata,
            )
            found += page.sessions
            token = page.next_page_token
            if not token:
                return found


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_normal_session_still_charges_and_is_billed_after_the_fuzz(
    fuzz_stack: FuzzStack, version: str
) -> None:
    fuzz_stack.cli("tokens", "add", "AFTERTAG", check=False)
    session_id, delivered_wh = await _charge(fuzz_stack, version)

    session, cdr = await _settled(fuzz_stack, session_id)

    assert session.energy_wh == pytest.approx(delivered_wh, abs=1.0)
    assert cdr.session_id == session_id
    assert float(cdr.energy_kwh) == pytest.approx(delivered_wh / 1000, abs=0.01)


async def test_no_stored_session_holds_a_corrupt_energy(fuzz_stack: FuzzStack) -> None:
    sessions = await _all_sessions(fuzz_stack)

    assert sessions, "the fuzz and the normal sessions left no session at all"
    for session in sessions:
        for value in (session.energy_wh, session.meter_start_wh, session.meter_stop_wh):
            assert math.isfinite(value), session
        assert math.isfinite(session.peak_power_w), session
        assert session.energy_wh >= 0, session


def test_no_service_crashed_during_the_fuzz(fuzz_stack: FuzzStack) -> None:
    assert fuzz_stack.service_pids() == fuzz_stack.pids_at_start
    assert "exited with code" not in fuzz_stack.output()[fuzz_stack.output_at_start :]
