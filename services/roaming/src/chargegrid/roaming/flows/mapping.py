"""Pure translations: our session and CDR protos into OCPI 2.2.1 Session and CDR objects.

OCPI ids are at most 36 (Session) / 39 (CDR) characters; ours ("<station>:<transaction>")
may be longer, so a long id is replaced by a stable digest of it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from chargegrid.api.billing.v1 import billing_pb2 as bpb
from chargegrid.api.session.v1 import session_pb2 as spb
from chargegrid.roaming.ocpi.envelope import ocpi_time
from chargegrid.roaming.partner_tokens import StoredToken
from chargegrid.roaming.token_models import WhitelistType

SESSION_STATUS = {
    spb.SESSION_STATUS_ACTIVE: "ACTIVE",
    spb.SESSION_STATUS_COMPLETED: "COMPLETED",
    spb.SESSION_STATUS_INTERRUPTED: "COMPLETED",
}
#: Billing's priced components -> the CDR dimension they measure (FLAT has none).
DIMENSION = {
    bpb.PRICE_COMPONENT_TYPE_ENERGY: "ENERGY",
    bpb.PRICE_COMPONENT_TYPE_TIME: "TIME",
    bpb.PRICE_COMPONENT_TYPE_PARKING_TIME: "PARKING_TIME",
}


def ocpi_id(our_id: str, limit: int = 36) -> str:
    if len(our_id) <= limit:
        return our_id
    return hashlib.sha256(our_id.encode()).hexdigest()[:limit]


@dataclass(frozen=True)
class Place:
    """Where a session ran, in OCPI terms (from the published locations)."""

    location_id: str
    evse_uid: str
    connector_id: str
    location: dict[str, Any] | None = None
    evse: dict[str, Any] | None = None


def _time(ts: Any) -> str:
    return ocpi_time(ts.ToDatetime(tzinfo=UTC))


def cdr_token(stored: StoredToken) -> dict[str, Any]:
    t = stored.token
    return {
        "country_code": t.country_code,
        "party_id": t.party_id,
        "uid": t.uid,
        "type": t.type.value,
        "contract_id": t.contract_id,
    }


def auth_method(stored: StoredToken) -> str:
    """WHITELIST when we answered from storage, AUTH_REQUEST when the partner is asked."""
    if stored.token.whitelist in (WhitelistType.ALWAYS, WhitelistType.ALLOWED):
        return "WHITELIST"
    return "AUTH_REQUEST"


def session_object(
    s: spb.Session,
    stored: StoredToken,
    place: Place,
    ours: tuple[str, str],
    currency: str,
    updated_at: datetime,
) -> dict[str, Any]:
    """The whole OCPI Session (PUT body) of a session at this moment."""
    body: dict[str, Any] = {
        "country_code": ours[0],
        "party_id": ours[1],
        "id": ocpi_id(s.id),
        "start_date_time": _time(s.started_at),
        "kwh": round(s.energy_wh / 1000.0, 4),
        "cdr_token": cdr_token(stored),
        "auth_method": auth_method(stored),
        "location_id": place.location_id,
        "evse_uid": place.evse_uid,
        "connector_id": place.connector_id,
        "currency": currency,
        "status": SESSION_STATUS.get(s.status, "ACTIVE"),
        "last_updated": ocpi_time(updated_at),
    }
    if s.HasField("ended_at"):
        body["end_date_time"] = _time(s.ended_at)
    return body


def session_patch(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """The fields that changed (always with last_updated), for a PATCH."""
    changed = {k: v for k, v in current.items() if previous.get(k) != v}
    changed["last_updated"] = current["last_updated"]
    return changed


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)


def _number(value: Decimal) -> float:
    return float(round(value, 4))


def _price(excl: Decimal, incl: Decimal) -> dict[str, float]:
    return {"excl_vat": _number(excl), "incl_vat": _number(incl)}


def charging_periods(cdr: bpb.Cdr) -> list[dict[str, Any]]:
    """One period per distinct start, with the dimension of each priced line in it."""
    periods: dict[str, dict[str, Any]] = {}
    for line in cdr.cost.lines:
        dimension = DIMENSION.get(line.type)
        if dimension is None or not line.HasField("start"):
            continue
        start = _time(line.start)
        period = periods.setdefault(
            start, {"start_date_time": start, "dimensions": [], "tariff_id": cdr.cost.tariff_id}
        )
        volume = _decimal(line.quantity)
        period["dimensions"].append({"type": dimension, "volume": _number(volume)})
    if not periods:
        start = _time(cdr.started_at)
        energy = _number(_decimal(cdr.energy_kwh))
        periods[start] = {
            "start_date_time": start,
            "dimensions": [{"type": "ENERGY", "volume": energy}],
        }
        if cdr.cost.tariff_id:
            periods[start]["tariff_id"] = cdr.cost.tariff_id
    return sorted(periods.values(), key=lambda p: str(p["start_date_time"]))


def _costs_of(cdr: bpb.Cdr, kind: int) -> dict[str, float] | None:
    lines = [line for line in cdr.cost.lines if line.type == kind]
    if not lines:
        return None
    excl = sum((_decimal(line.amount_excl_vat) for line in lines), Decimal(0))
    vat = sum((_decimal(line.amount_vat) for line in lines), Decimal(0))
    return _price(excl, excl + vat)


def cdr_location(place: Place) -> dict[str, Any]:
    location = place.location or {}
    evse = place.evse or {}
    connectors = evse.get("connectors") or [{}]
    connector = next((c for c in connectors if c.get("id") == place.connector_id), connectors[0])
    return {
        "id": place.location_id,
        "name": location.get("name", place.location_id),
        "address": location.get("address", "-"),
        "city": location.get("city", "-"),
        "country": location.get("country", "DEU"),
        "coordinates": location.get("coordinates", {"latitude": "0.0", "longitude": "0.0"}),
        "evse_uid": place.evse_uid,
        "evse_id": evse.get("evse_id", place.evse_uid),
        "connector_id": place.connector_id,
        "connector_standard": connector.get("standard", "IEC_62196_T2"),
        "connector_format": connector.get("format", "SOCKET"),
        "connector_power_type": connector.get("power_type", "AC_3_PHASE"),
    }


def cdr_object(
    cdr: bpb.Cdr,
    stored: StoredToken,
    place: Place,
    ours: tuple[str, str],
    tariffs: list[dict[str, Any]],
    currency: str,
    session_ocpi_id: str,
) -> dict[str, Any]:
    """The OCPI CDR of billing's CDR: its cost as billing computed it, its tariff."""
    total_excl = _decimal(cdr.cost.total_excl_vat)
    total_incl = _decimal(cdr.cost.total_incl_vat)
    body: dict[str, Any] = {
        "country_code": ours[0],
        "party_id": ours[1],
        "id": ocpi_id(cdr.id, 39),
        "start_date_time": _time(cdr.started_at),
        "end_date_time": _time(cdr.ended_at),
        "session_id": session_ocpi_id,
        "cdr_token": cdr_token(stored),
        "auth_method": auth_method(stored),
        "cdr_location": cdr_location(place),
        "currency": cdr.cost.currency or currency,
        "tariffs": tariffs,
        "charging_periods": charging_periods(cdr),
        "total_cost": _price(total_excl, total_incl),
        "total_energy": _number(_decimal(cdr.energy_kwh)),
        "total_time": round(cdr.total_time_s / 3600.0, 4),
        "total_parking_time": round(cdr.parking_time_s / 3600.0, 4),
        "last_updated": _time(cdr.created_at)
        if cdr.HasField("created_at")
        else _time(cdr.ended_at),
    }
    for key, kind in (
        ("total_fixed_cost", bpb.PRICE_COMPONENT_TYPE_FLAT),
        ("total_energy_cost", bpb.PRICE_COMPONENT_TYPE_ENERGY),
        ("total_time_cost", bpb.PRICE_COMPONENT_TYPE_TIME),
        ("total_parking_cost", bpb.PRICE_COMPONENT_TYPE_PARKING_TIME),
    ):
        found = _costs_of(cdr, kind)
        if found is not None:
            body[key] = found
    return body
