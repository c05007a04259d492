"""Stations' registry objects in the OCPI 2.2.1 Location model (mod_locations.asciidoc).

A site is a Location (id = site id), each EVSE of a station an EVSE with uid
`<station id>*<evse id>` (unique in our platform, at most 36 characters as the rules of
station ids allow), each connector a Connector. Connector types follow OCPP's names
("cType2", "cCCS2", "sType2"...); the first letter is the format (cable / socket).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pycountry

from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.api.stations.v1 import stations_pb2 as st

#: OCPP connector status -> OCPI EVSE status.
EVSE_STATUS: dict[int, str] = {
    ev.CONNECTOR_STATUS_AVAILABLE: "AVAILABLE",
    ev.CONNECTOR_STATUS_PREPARING: "CHARGING",
    ev.CONNECTOR_STATUS_CHARGING: "CHARGING",
    ev.CONNECTOR_STATUS_SUSPENDED_EV: "CHARGING",
    ev.CONNECTOR_STATUS_SUSPENDED_EVSE: "CHARGING",
    ev.CONNECTOR_STATUS_OCCUPIED: "CHARGING",
    ev.CONNECTOR_STATUS_FINISHING: "BLOCKED",
    ev.CONNECTOR_STATUS_RESERVED: "RESERVED",
    ev.CONNECTOR_STATUS_UNAVAILABLE: "INOPERATIVE",
    ev.CONNECTOR_STATUS_FAULTED: "OUTOFORDER",
}
UNKNOWN = "UNKNOWN"

#: OCPP connector type (without its c/s format letter) -> (OCPI ConnectorType, power type).
CONNECTOR_TYPES = {
    "type1": ("IEC_62196_T1", "AC_1_PHASE"),
    "type2": ("IEC_62196_T2", "AC_3_PHASE"),
    "type3": ("IEC_62196_T3A", "AC_3_PHASE"),
    "ccs1": ("IEC_62196_T1_COMBO", "DC"),
    "ccs2": ("IEC_62196_T2_COMBO", "DC"),
    "chademo": ("CHADEMO", "DC"),
    "g105": ("CHADEMO", "DC"),
    "gbt": ("GBT_DC", "DC"),
    "tesla": ("TESLA_S", "DC"),
    "nacs": ("NEMA_14_50", "AC_1_PHASE"),
    "schuko": ("DOMESTIC_F", "AC_1_PHASE"),
    "cee": ("IEC_60309_2_three_16", "AC_3_PHASE"),
}
VOLTAGE = {"AC_1_PHASE": 230, "AC_3_PHASE": 400, "DC": 920}


def evse_uid(station_id: str, evse_id: int) -> str:
    return f"{station_id}*{evse_id}"


def evse_status(status: int) -> str:
    return EVSE_STATUS.get(status, UNKNOWN)


def alpha3(country: str) -> str:
    """ISO 3166-1 alpha-3 of an alpha-2 code (OCPI Location.country); the input if unknown."""
    found = pycountry.countries.get(alpha_2=country.upper()) if len(country) == 2 else None
    return str(found.alpha_3) if found is not None else country.upper()[:3]


def digest(doc: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def connector(c: st.Connector) -> dict[str, Any]:
    kind = c.type or "cType2"
    fmt = "SOCKET" if kind[:1] == "s" else "CABLE"
    standard, power = CONNECTOR_TYPES.get(kind[1:].lower(), ("IEC_62196_T2", "AC_3_PHASE"))
    voltage = VOLTAGE[power]
    phases = 3 if power == "AC_3_PHASE" else 1
    amps = c.max_current_a or (c.max_power_w / (voltage * phases) if c.max_power_w else 32)
    doc: dict[str, Any] = {
        "id": str(c.connector_id or 1),
        "standard": standard,
        "format": fmt,
        "power_type": power,
        "max_voltage": voltage,
        "max_amperage": round(amps),
    }
    if c.max_power_w:
        doc["max_electric_power"] = round(c.max_power_w)
    return doc


def evse(country_code: str, party_id: str, station: st.Station, e: st.Evse) -> dict[str, Any]:
    """The EVSE without status and last_updated (live; added when published)."""
    connectors = [connector(c) for c in e.connectors] or [connector(st.Connector())]
    return {
        "uid": evse_uid(station.id, e.evse_id),
        "evse_id": f"{country_code}*{party_id}*E{station.id}*{e.evse_id}"[:48],
        "capabilities": ["REMOTE_START_STOP_CAPABLE", "RFID_READER", "UNLOCK_CAPABLE"],
        "connectors": connectors,
    }


def location(country_code: str, party_id: str, site: st.Site) -> dict[str, Any]:
    """The Location of a site, without evses and last_updated (added when published)."""
    doc: dict[str, Any] = {
        "country_code": country_code,
        "party_id": party_id,
        "id": site.id,
        "publish": True,
        "name": site.name or site.id,
        "address": (site.address or "-")[:45],
        "city": (site.city or "-")[:45],
        "country": alpha3(site.country or "DE"),
        "coordinates": {
            "latitude": f"{site.latitude:.6f}",
            "longitude": f"{site.longitude:.6f}",
        },
        "time_zone": site.timezone or "UTC",
    }
    if site.postal_code:
        doc["postal_code"] = site.postal_code[:10]
    return doc
