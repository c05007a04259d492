"""Campaign targets: explicit ids or a selection, never both; a selection resolved through a
fake stations directory, its outcome stored and shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.api.stations.v1 import stations_pb2 as st
from chargegrid.firmware.stations import Located, Selection, StationsUnavailable
from chargegrid.firmware.targets import parse_target, resolve, target_json, target_message
from chargegrid.firmware.updates import new_id
from chargegrid.platform.grpc import FailedPrecondition, InvalidArgument, Unavailable


@dataclass
class FakeDirectory:
    found: list[Located] = field(default_factory=list)
    down: bool = False
    selections: list[Selection] = field(default_factory=list)

    async def matching(self, selection: Selection) -> list[Located]:
        if self.down:
            raise StationsUnavailable("stations service unavailable: UNAVAILABLE down")
        self.selections.append(selection)
        return self.found

    async def locate(self, station_ids: Sequence[str]) -> list[Located]:
        if self.down:
            raise StationsUnavailable("stations service unavailable: UNAVAILABLE down")
        return [Located(s, "Europe/Berlin") for s in station_ids]


def test_explicit_ids_are_trimmed_and_deduplicated() -> None:
    target = pb.CampaignTarget(station_ids=["B", " A", "B", ""])
    assert parse_target(target) == ["B", "A"]


def test_filters_make_a_selection() -> None:
    target = pb.CampaignTarget(site_id="S1", current_version="1.0")
    assert parse_target(target) == Selection(site_id="S1", current_version="1.0")


@pytest.mark.parametrize(
    "target",
    [pb.CampaignTarget(), pb.CampaignTarget(station_ids=["A"], model="Volt 16")],
    ids=["neither", "both"],
)
def test_a_target_needs_exactly_one_form(target: pb.CampaignTarget) -> None:
    with pytest.raises(InvalidArgument):
        parse_target(target)


def test_a_selection_matches_only_when_every_given_filter_does() -> None:
    selection = Selection(vendor="Acme", current_version="1.0")
    assert selection.matches(st.Station(vendor="Acme", model="X", firmware_version="1.0"))
    assert not selection.matches(st.Station(vendor="Acme", firmware_version="1.1"))
    assert selection.describe() == "vendor='Acme', current_version='1.0'"


async def test_a_selection_resolves_to_its_stations_in_id_order() -> None:
    directory = FakeDirectory([Located("CP-2", "Asia/Tokyo"), Located("CP-1")])
    found = await resolve(Selection(site_id="S1"), directory)
    assert found == [Located("CP-1"), Located("CP-2", "Asia/Tokyo")]
    assert directory.selections == [Selection(site_id="S1")]


async def test_a_selection_matching_nothing_is_a_failed_precondition() -> None:
    with pytest.raises(FailedPrecondition, match="no station matches model='Volt 99'"):
        await resolve(Selection(model="Volt 99"), FakeDirectory())


@pytest.mark.parametrize("target", [Selection(site_id="S1"), ["CP-1"]], ids=["selection", "ids"])
async def test_a_directory_that_is_down_is_unavailable(target: list[str] | Selection) -> None:
    with pytest.raises(Unavailable, match="stations service unavailable"):
        await resolve(target, FakeDirectory(down=True))


def test_the_stored_target_keeps_the_selection_and_its_stations() -> None:
    selection = Selection(site_id="S1", vendor="Acme")
    stored = target_json(selection, [Located("CP-1"), Located("CP-2")])
    assert target_message(stored) == pb.CampaignTarget(
        station_ids=["CP-1", "CP-2"], site_id="S1", vendor="Acme"
    )
    explicit = target_json(["CP-9"], [Located("CP-9")])
    assert target_message(explicit) == pb.CampaignTarget(station_ids=["CP-9"])


def test_ids_made_in_one_millisecond_keep_their_order() -> None:
    ids = [new_id() for _ in range(2_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
