"""The station list, search and filters answered from the live mirror's station records.

`GET /api/v1/stations` is the dashboard's hottest route. Asking the stations service costs a
gRPC call, three queries (count, page, connectors) and a protobuf decode per request; the
mirror already holds every station (read in full at start and every `stations_resync_s`,
kept current by WatchStatus, a station it did not know or that (re)connected read again with
GetStation), so the route filters and pages that in memory. Each record's JSON is built once
per change. The filters mean what ListStations' mean; `q` is a substring search of id,
vendor, model, serial number and site (case-insensitive). Order is by station id, as the
service's. Page tokens of this list start with `m:` (the last id shown), so a token of the
service's list is never mistaken for one of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chargegrid.api.stations.v1 import stations_pb2 as pb

MIRROR_PAGE_PREFIX = "m:"


@dataclass(frozen=True)
class StationQuery:
    """Empty / None fields do not filter (as in ListStationsRequest)."""

    site_id: str = ""
    #: a RegistrationStatus value, 0 = any
    registration_status: int = 0
    online: bool | None = None
    vendor: str = ""
    model: str = ""
    firmware_version: str = ""
    #: a ConnectorStatus value, 0 = any
    connector_status: int = 0
    #: lower-cased search text
    needle: str = ""

    def matches(self, s: pb.Station) -> bool:
        if self.site_id and s.site_id != self.site_id:
            return False
        if self.registration_status and s.registration_status != self.registration_status:
            return False
        if self.online is not None and s.online != self.online:
            return False
        if self.vendor and s.vendor != self.vendor:
            return False
        if self.model and s.model != self.model:
            return False
        if self.firmware_version and s.firmware_version != self.firmware_version:
            return False
        if self.connector_status and not any(
            c.status == self.connector_status for e in s.evses for c in e.connectors
        ):
            return False
        if self.needle:
            fields = (s.id, s.vendor, s.model, s.serial_number, s.site_id)
            return any(self.needle in value.lower() for value in fields)
        return True


def is_mirror_token(token: str | None) -> bool:
    return not token or token.startswith(MIRROR_PAGE_PREFIX)


def page_of(
    records: dict[str, pb.Station],
    as_json: Any,
    query: StationQuery,
    size: int,
    token: str | None,
) -> dict[str, Any]:
    """One page in id order after the token's id, the next token and how many match.

    `as_json(station)` gives a record's (cached) JSON."""
    after = (token or "")[len(MIRROR_PAGE_PREFIX) :]
    matching = sorted((s for s in records.values() if query.matches(s)), key=lambda s: s.id)
    start = 0
    if after:
        start = next((i for i, s in enumerate(matching) if s.id > after), len(matching))
    shown = matching[start : start + size]
    more = start + size < len(matching)
    return {
        "stations": [as_json(s) for s in shown],
        "next_page_token": f"{MIRROR_PAGE_PREFIX}{shown[-1].id}" if more and shown else "",
        "total": len(matching),
    }
