"""Fixtures for simulator tests: the CSMS double, a station factory and an upload sink."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from chargegrid.simulator import Station, create_station

from .builders import StationFactory, UploadSink, a_config
from .csms_double import CsmsDouble


@pytest.fixture
async def csms() -> AsyncIterator[CsmsDouble]:
    double = CsmsDouble()
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
async def make_station(csms: CsmsDouble) -> AsyncIterator[StationFactory]:
    """Build (not start) fast stations against the double; all are stopped afterwards."""
    built: list[Station] = []

    def make(version: str = "1.6", **overrides: Any) -> Station:
        overrides.setdefault("station_id", f"SIM-{len(built) + 1:04d}")
        station = create_station(version, a_config(**overrides), csms.url)
        built.append(station)
        return station

    yield make
    await asyncio.gather(*(station.stop(timeout_s=2.0) for station in built))


@pytest.fixture
def upload_sink() -> Iterator[UploadSink]:
    sink = UploadSink()
    sink.start()
    yield sink
    sink.stop()
