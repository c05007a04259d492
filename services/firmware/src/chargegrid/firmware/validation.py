"""Request checks under the product's identifier rules and text limits, before any write.

Ids follow `chargegrid.platform.identifiers`; what goes to a station keeps the OCPP lengths
(UpdateFirmware location 512, signingCertificate 5500, signature 800; firmware version
CiString50, vendor 50, model 20).
"""

from __future__ import annotations

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.platform import identifiers as ids
from chargegrid.platform import text_limits as limits
from chargegrid.platform.grpc import InvalidArgument

#: Stations one campaign may name explicitly (a selection has no limit).
MAX_TARGET_STATIONS = 10_000


def image(given: pb.FirmwareImage) -> None:
    ids.RECORD_ID.check_optional(given.id, "image.id")
    ids.FIRMWARE_VERSION.check_optional(given.version.strip(), "image.version")
    ids.VENDOR.check_optional(given.vendor, "image.vendor")
    ids.MODEL.check_optional(given.model, "image.model")
    limits.bounded(given.location, "image.location", limits.URL)
    limits.bounded(given.signing_certificate, "image.signing_certificate", limits.CERTIFICATE)
    limits.bounded(given.signature, "image.signature", limits.SIGNATURE)


def station_id(value: str, field: str = "station_id") -> str:
    return ids.STATION_ID.check(value, field)


def optional_station_id(value: str, field: str = "station_id") -> str:
    return ids.STATION_ID.check_optional(value, field)


def record_id(value: str, field: str) -> str:
    return ids.RECORD_ID.check_optional(value, field)


def location(value: str, field: str = "location") -> str:
    return limits.bounded(value, field, limits.URL)


def target(given: pb.CampaignTarget) -> None:
    if len(given.station_ids) > MAX_TARGET_STATIONS:
        raise InvalidArgument(
            f"target.station_ids names more than {MAX_TARGET_STATIONS} stations; use a selection"
        )
    for n, station in enumerate(given.station_ids):
        if station.strip():
            ids.STATION_ID.check(station.strip(), f"target.station_ids[{n}]")
    ids.SITE_ID.check_optional(given.site_id.strip(), "target.site_id")
    ids.VENDOR.check_optional(given.vendor.strip(), "target.vendor")
    ids.MODEL.check_optional(given.model.strip(), "target.model")
    ids.FIRMWARE_VERSION.check_optional(given.current_version.strip(), "target.current_version")
