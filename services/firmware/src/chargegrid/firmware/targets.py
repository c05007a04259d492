"""A campaign's target: explicit station ids, or a selection resolved once at creation.

The stored target keeps what the operator asked (the selection's filters) next to what it
meant at creation (the station ids), so GetCampaign shows both.
"""

from __future__ import annotations

import json

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.firmware.stations import (
    Located,
    Selection,
    StationDirectory,
    StationsUnavailable,
)
from chargegrid.platform.grpc import FailedPrecondition, InvalidArgument, Unavailable


def parse_target(target: pb.CampaignTarget) -> list[str] | Selection:
    """The explicit station ids, or the selection; refuses both or neither."""
    station_ids = list(dict.fromkeys(s.strip() for s in target.station_ids if s.strip()))
    selection = Selection(
        site_id=target.site_id.strip(),
        vendor=target.vendor.strip(),
        model=target.model.strip(),
        current_version=target.current_version.strip(),
    )
    if station_ids and selection.given():
        raise InvalidArgument(
            "give either target.station_ids or a selection (site_id, vendor, model, "
            f"current_version), not both: got station_ids and {selection.describe()}"
        )
    if station_ids:
        return station_ids
    if not selection.given():
        raise InvalidArgument(
            "target needs station_ids or a selection (site_id, vendor, model, current_version)"
        )
    return selection


async def resolve(target: list[str] | Selection, directory: StationDirectory) -> list[Located]:
    """The target's stations with their zones; nothing matching is FAILED_PRECONDITION."""
    try:
        if isinstance(target, Selection):
            found = await directory.matching(target)
            if not found:
                raise FailedPrecondition(f"no station matches {target.describe()}")
            return sorted(found, key=lambda located: located.station_id)
        return await directory.locate(target)
    except StationsUnavailable as exc:
        raise Unavailable(f"cannot resolve the campaign's stations: {exc}") from exc


def target_json(target: list[str] | Selection, stations: list[Located]) -> str:
    stored: dict[str, object] = {"station_ids": [s.station_id for s in stations]}
    if isinstance(target, Selection):
        stored["selection"] = target.given()
    return json.dumps(stored)


def target_message(stored_json: str) -> pb.CampaignTarget:
    stored = json.loads(stored_json)
    return pb.CampaignTarget(
        station_ids=stored.get("station_ids", []), **stored.get("selection", {})
    )
