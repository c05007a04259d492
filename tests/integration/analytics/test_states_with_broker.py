# ruff: noqa: F811  (the imported fixtures are parameters of the test)
"""The connector states through the embedded broker (a broker of this module's own: the
energy month shares its station ids), with a restart halfway and a malformed status event
dead-lettered: every state figure equals the plain reference."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from chargegrid.analytics.api import AnalyticsService
from chargegrid.analytics.app import AnalyticsApp
from chargegrid.api.billing.v1 import billing_pb2 as billing
from chargegrid.platform.bus import EnvelopeFactory, EventProducer
from chargegrid.platform.bus.topics import STATION_EVENTS, TRANSACTION_EVENTS
from tests.integration.analytics.conftest import reference_sites
from tests.integration.analytics.states_reference import STATES_NOW, generate_states, replay
from tests.integration.analytics.test_analytics_with_broker import (  # noqa: F401 (the fixtures)
    FAST_GROUP,
    dead_letters,
    kafka_bootstrap,
    own_broker,
    producer,
    publish_all,
    settings_for,
)
from tests.integration.analytics.test_states_match_the_reference import (
    add_exclusions,
    assert_states_match,
)


@pytest.mark.timeout(400)
async def test_connector_states_through_the_broker_with_a_restart_and_a_malformed_event(
    database_url: str, kafka_bootstrap: str, producer: EventProducer, tmp_path: Path
) -> None:
    states = generate_states()
    minutes = replay(states)
    settings = settings_for(database_url, kafka_bootstrap, tmp_path, f"st-{uuid.uuid4().hex[:8]}")
    bad_station = f"CP-BAD-{uuid.uuid4().hex[:6]}"
    wrong_payload = EnvelopeFactory("test").wrap(
        "station.status_changed", bad_station, billing.CdrCreated()
    )
    half = len(states.station_events) // 2
    await publish_all(producer, STATION_EVENTS, states.station_events[:half])
    await producer.publish(STATION_EVENTS, wrong_payload)
    first = AnalyticsApp(settings, sites=reference_sites(), consumer_tuning=FAST_GROUP)
    await first.start()
    await asyncio.sleep(2)
    await first.stop()
    await publish_all(producer, STATION_EVENTS, states.station_events[half:])
    await publish_all(producer, TRANSACTION_EVENTS, states.transaction_events)
    second = AnalyticsApp(
        settings, sites=reference_sites(), consumer_tuning=FAST_GROUP, clock=lambda: STATES_NOW
    )
    await second.start()
    try:
        await add_exclusions(AnalyticsService(second.sessions, 370, clock=lambda: STATES_NOW))
        deadline = asyncio.get_running_loop().time() + 300
        while True:
            try:
                await assert_states_match(second, minutes)  # type: ignore[arg-type]
                break
            except AssertionError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(1)
        assert len(await dead_letters(kafka_bootstrap, bad_station, STATION_EVENTS)) == 1
    finally:
        await second.stop()
