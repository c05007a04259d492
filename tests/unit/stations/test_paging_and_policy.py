"""Paging tokens, boot decisions and which keys a station's version receives."""

from datetime import UTC, datetime

import pytest

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.platform.grpc.errors import InvalidArgument
from chargegrid.stations.policy import BootPolicy
from chargegrid.stations.reconcile import applies_to
from chargegrid.stations.store.paging import DEFAULT_PAGE_SIZE, encode_token, page_of
from chargegrid.stations.store.stations import new_station

NOW = datetime(2026, 11, 2, tzinfo=UTC)


def test_a_page_resumes_after_the_key_its_token_names() -> None:
    page = page_of(PageRequest(page_size=10, page_token=encode_token("CP-9")))
    assert (page.size, page.after) == (10, "CP-9")


def test_zero_means_the_default_page_size() -> None:
    assert page_of(PageRequest()).size == DEFAULT_PAGE_SIZE


@pytest.mark.parametrize(
    "request_",
    [
        PageRequest(page_size=1001),
        PageRequest(page_size=-1),
        PageRequest(page_token="not-a-token"),
        PageRequest(page_token=encode_token("x").replace("e", "_")),
    ],
)
def test_oversized_pages_and_foreign_tokens_are_refused(request_: PageRequest) -> None:
    with pytest.raises(InvalidArgument):
        page_of(request_)


POLICY = BootPolicy("pending", heartbeat_interval_s=300, retry_interval_s=60)


@pytest.mark.parametrize(
    ("status", "own_interval", "expected"),
    [
        ("Accepted", 0, ("Accepted", 300)),
        ("Accepted", 90, ("Accepted", 90)),
        ("Pending", 90, ("Pending", 60)),
        ("Rejected", 0, ("Rejected", 60)),
    ],
)
def test_boot_decisions_follow_the_registration_status(
    status: str, own_interval: int, expected: tuple[str, int]
) -> None:
    station = new_station("CP", status, NOW)
    station.heartbeat_interval_s = own_interval
    assert POLICY.decide(station) == expected


@pytest.mark.parametrize(
    ("policy", "initial"), [("accept", "Accepted"), ("pending", "Pending"), ("reject", "Rejected")]
)
def test_unknown_stations_start_as_the_policy_says(policy: str, initial: str) -> None:
    assert BootPolicy(policy, 300, 60).initial_status == initial


def test_16_stations_get_plain_keys_and_2x_stations_component_variables() -> None:
    assert applies_to("HeartbeatInterval", 1)
    assert not applies_to("OCPPCommCtrlr/HeartbeatInterval", 1)
    assert applies_to("OCPPCommCtrlr/HeartbeatInterval", 2)
    assert not applies_to("HeartbeatInterval", 3)
    assert applies_to("HeartbeatInterval", 0)
