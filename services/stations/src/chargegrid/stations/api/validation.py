"""Checks on request fields, so bad input is refused with a clear message before any write."""

from __future__ import annotations

import re
import zoneinfo

from chargegrid.api.common.v1 import common_pb2
from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform import identifiers as ids
from chargegrid.platform import text_limits as limits
from chargegrid.platform.grpc.errors import InvalidArgument
from chargegrid.stations.api.convert import REGISTRATION_NAME
from chargegrid.stations.store.configuration import SITE, STATION, VENDOR_MODEL, Scope

_KEY_PART = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?$")
_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,50}$")
MAX_VALUE = limits.CONFIGURATION_VALUE
MAX_KEY = 200  # the stored column; 2.0.1 names and instances are 50 each
PASSWORD_LENGTHS = (16, 40)


def station_id(value: str, name: str) -> str:
    return ids.STATION_ID.check(value, name)


def optional_station_id(value: str, name: str) -> str:
    return ids.STATION_ID.check_optional(value, name)


def site_id(value: str, name: str) -> str:
    return ids.SITE_ID.check(value, name)


def optional_site_id(value: str, name: str) -> str:
    return ids.SITE_ID.check_optional(value, name)


def station_details(given: pb.Station) -> tuple[str, str, str, str]:
    """(vendor, model, serial number, firmware version) an operator gives, in OCPP's limits."""
    return (
        ids.VENDOR.check_optional(given.vendor, "station.vendor"),
        ids.MODEL.check_optional(given.model, "station.model"),
        ids.SERIAL_NUMBER.check_optional(given.serial_number, "station.serial_number"),
        ids.FIRMWARE_VERSION.check_optional(given.firmware_version, "station.firmware_version"),
    )


_SITE_TEXT = {
    "name": limits.NAME,
    "address": limits.ADDRESS,
    "city": limits.CITY,
    "postal_code": limits.POSTAL_CODE,
    "timezone": limits.TIMEZONE,
}


def site_fields(site: pb.Site) -> dict[str, object]:
    for field, limit in _SITE_TEXT.items():
        limits.bounded(getattr(site, field), f"site.{field}", limit)
    if not site.name.strip():
        raise InvalidArgument("site.name is required")
    if site.country and not re.fullmatch(r"[A-Z]{2}", site.country):
        raise InvalidArgument("site.country must be an ISO 3166-1 alpha-2 code such as 'DE'")
    if not -90 <= site.latitude <= 90 or not -180 <= site.longitude <= 180:
        raise InvalidArgument("site.latitude must be in [-90, 90] and longitude in [-180, 180]")
    if site.grid_limit_a < 0 or site.grid_phases not in (0, 1, 2, 3):
        raise InvalidArgument("site.grid_limit_a must be >= 0 and grid_phases 0 to 3")
    if site.timezone:
        try:
            zoneinfo.ZoneInfo(site.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidArgument(f"site.timezone {site.timezone!r} is not an IANA name") from exc
    return {
        "name": site.name.strip(),
        "address": site.address,
        "city": site.city,
        "postal_code": site.postal_code,
        "country": site.country,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "timezone": site.timezone,
        "grid_limit_a": site.grid_limit_a,
        "grid_phases": site.grid_phases,
    }


def registration_filter(value: int) -> str:
    if value == pb.REGISTRATION_STATUS_UNSPECIFIED:
        return ""
    if value not in REGISTRATION_NAME:
        raise InvalidArgument(f"registration_status {value} is not a RegistrationStatus")
    return REGISTRATION_NAME[value]


def online_filter(value: str) -> bool | None:
    if value not in ("", "online", "offline"):
        raise InvalidArgument("online must be 'online', 'offline' or empty")
    return None if not value else value == "online"


def connector_status(value: int) -> int:
    if value not in ev.ConnectorStatus.values():
        raise InvalidArgument(f"connector status {value} is not a ConnectorStatus")
    return value


def ocpp_version(value: int) -> int:
    if value not in common_pb2.OcppVersion.values():
        raise InvalidArgument(f"ocpp_version {value} is not an OcppVersion")
    return value


def non_negative(value: int, name: str) -> int:
    if value < 0:
        raise InvalidArgument(f"{name} must not be negative")
    return value


def scope(message: pb.ConfigurationScope, has_scope: bool) -> Scope:
    target = message.WhichOneof("target") if has_scope else None
    if target is None:
        raise InvalidArgument("scope is required: station_id, site_id or vendor_model")
    if target == "station_id":
        return Scope(STATION, station_id(message.station_id, "scope.station_id"))
    if target == "site_id":
        return Scope(SITE, site_id(message.site_id, "scope.site_id"))
    vendor, slash, model = message.vendor_model.partition("/")
    if not slash or not vendor.strip() or not model.strip():
        raise InvalidArgument("scope.vendor_model must be 'vendor/model'")
    ids.VENDOR.check(vendor, "scope.vendor_model (vendor)")
    ids.MODEL.check(model, "scope.vendor_model (model)")
    return Scope(VENDOR_MODEL, message.vendor_model)


def configuration_key(key: str) -> str:
    if len(key) > MAX_KEY:
        raise InvalidArgument(f"configuration key is longer than {MAX_KEY} characters")
    if "/" in key:
        component, _, variable = key.partition("/")
        if _KEY_PART.match(component) and _KEY_PART.match(variable):
            return key
    elif _PLAIN_KEY.match(key):
        return key
    raise InvalidArgument(
        f"configuration key {key!r} must be a 1.6 key or 'Component[.instance]/Variable[.instance]'"
    )


def entries(items: list[pb.ConfigurationEntry]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in items:
        if len(item.value) > MAX_VALUE:
            raise InvalidArgument(f"value of {item.key!r} is longer than {MAX_VALUE} characters")
        found[configuration_key(item.key)] = item.value
    return found


def password(value: str) -> str:
    low, high = PASSWORD_LENGTHS
    if not low <= len(value) <= high or not all(" " < ch <= "~" for ch in value):
        raise InvalidArgument(
            f"password must be {low}-{high} printable ASCII characters without spaces"
        )
    return value


def fingerprint(value: str) -> str:
    if value and not re.fullmatch(r"[0-9a-f]{64}", value):
        raise InvalidArgument("certificate_fingerprint must be lower-case hex SHA-256")
    return value


SECURITY_PROFILES = (1, 2, 3)


def security_profile(value: int, name: str = "security_profile") -> int:
    """0 (none required) or an OCPP security profile 1-3."""
    if value != 0 and value not in SECURITY_PROFILES:
        raise InvalidArgument(f"{name} must be 1, 2 or 3 (or 0 for none)")
    return value


def registration_status(value: int) -> str:
    """A registration status an operator may set; UNSPECIFIED is refused."""
    status = registration_filter(value)
    if not status:
        raise InvalidArgument("registration_status is required: PENDING, ACCEPTED or REJECTED")
    return status
