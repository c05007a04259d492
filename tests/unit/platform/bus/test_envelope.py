"""Envelopes carry typed payloads, injected ids and times, and refuse what is not one."""

from datetime import UTC, datetime

import pytest

from chargegrid.api.station.v1.events_pb2 import HeartbeatReceived, StatusChanged
from chargegrid.platform.bus import EnvelopeFactory, UndecodableEvent, decode, encode, unpack
from chargegrid.platform.bus.envelope import occurred_at

FIXED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def a_factory() -> EnvelopeFactory:
    ids = iter(f"id-{n}" for n in range(100))
    return EnvelopeFactory(source="gateway/pod-1", clock=lambda: FIXED, ids=lambda: next(ids))


def test_an_envelope_round_trips_through_bytes_with_its_payload() -> None:
    envelope = a_factory().wrap("station.status_changed", "CP-1", StatusChanged(connector_id=3))
    back = decode(encode(envelope))
    assert back.event_id == "id-0"
    assert back.station_id == "CP-1"
    assert back.source == "gateway/pod-1"
    assert occurred_at(back) == FIXED
    assert unpack(back, StatusChanged).connector_id == 3


def test_the_station_time_wins_over_the_clock_when_given() -> None:
    at = datetime(2025, 5, 5, tzinfo=UTC)
    envelope = a_factory().wrap("station.heartbeat", "CP-1", HeartbeatReceived(), occurred_at=at)
    assert occurred_at(envelope) == at


def test_with_the_default_clock_an_envelope_is_stamped_now() -> None:
    before = datetime.now(UTC)
    envelope = EnvelopeFactory(source="gateway/pod-1").wrap(
        "station.heartbeat", "CP-1", HeartbeatReceived()
    )
    after = datetime.now(UTC)
    assert before <= occurred_at(envelope) <= after


def test_unpacking_the_wrong_payload_type_is_refused() -> None:
    envelope = a_factory().wrap("station.heartbeat", "CP-1", HeartbeatReceived())
    with pytest.raises(UndecodableEvent, match="HeartbeatReceived"):
        unpack(envelope, StatusChanged)


@pytest.mark.parametrize("raw", [None, b"", b"\xff\xfe garbage", b"\x0a\x02id"])
def test_bytes_that_are_not_a_complete_envelope_are_undecodable(raw: bytes | None) -> None:
    with pytest.raises(UndecodableEvent):
        decode(raw)
