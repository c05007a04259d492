"""Sites and stations: lists with filters and search, one station with live status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query

from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.console.auth import Caller, operator, viewer
from chargegrid.console.backends import Backends
from chargegrid.console.convert import build, to_json
from chargegrid.console.deps import backends, live
from chargegrid.console.live import LiveMirror
from chargegrid.console.problems import Problem
from chargegrid.console.routes.params import PageSize, PageToken, enum_name, page
from chargegrid.console.station_json import station_json, station_list_json
from chargegrid.console.station_list import StationQuery, is_mirror_token, page_of

router = APIRouter(tags=["sites and stations"])
Viewer = Annotated[Caller, Depends(viewer)]
Operator = Annotated[Caller, Depends(operator)]
B = Annotated[Backends, Depends(backends)]
SEARCH_SCAN_PAGE = 500


@router.get("/sites")
async def list_sites(
    caller: Viewer, b: B, page_size: PageSize = 100, page_token: PageToken = None
) -> dict[str, Any]:
    request = build(pb.ListSitesRequest, {"page": page(page_size, page_token)})
    return to_json(await b.call("stations", "ListSites", request, caller))


@router.get("/sites/{site_id}")
async def get_site(site_id: str, caller: Viewer, b: B) -> dict[str, Any]:
    return to_json(await b.call("stations", "GetSite", pb.GetSiteRequest(site_id=site_id), caller))


@router.post("/sites", status_code=201)
async def create_site(
    caller: Operator, b: B, site: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    request = build(pb.CreateSiteRequest, {"site": site})
    return to_json(await b.call("stations", "CreateSite", request, caller))


def _matches(station: pb.Station, needle: str) -> bool:
    fields = (station.id, station.vendor, station.model, station.serial_number, station.site_id)
    return any(needle in value.lower() for value in fields)


def _enum_value(enum: Any, prefix: str, text: str | None, field: str) -> int:
    name = enum_name(enum, prefix, text, field)
    return 0 if name is None else int(enum.Value(name))


@router.get("/stations")
async def list_stations(
    caller: Viewer,
    b: B,
    mirror: Annotated[LiveMirror, Depends(live)],
    q: Annotated[
        str | None,
        Query(max_length=100, description="Search id, vendor, model, serial, site (substring)."),
    ] = None,
    site_id: str | None = None,
    online: Annotated[bool | None, Query(description="true = online only, false = offline")] = None,
    status: Annotated[
        str | None, Query(description="A connector status, e.g. Faulted, Charging, Available.")
    ] = None,
    registration_status: Annotated[
        str | None, Query(description="Pending, Accepted, Rejected")
    ] = None,
    vendor: str | None = None,
    model: str | None = None,
    firmware_version: str | None = None,
    page_size: PageSize = 50,
    page_token: PageToken = None,
) -> dict[str, Any]:
    """Stations with their live status, filtered; `q` searches id, vendor, model, serial, site.

    Answered from the live mirror while it is current (station_list.py), else by the stations
    service (then with `q` the `page_token` is an offset)."""
    if mirror.stations_current() and is_mirror_token(page_token):
        query = StationQuery(
            site_id=site_id or "",
            registration_status=_enum_value(
                pb.RegistrationStatus, "REGISTRATION_STATUS_", registration_status,
                "registration_status",
            ),
            online=online,
            vendor=vendor or "",
            model=model or "",
            firmware_version=firmware_version or "",
            connector_status=_enum_value(
                station_events.ConnectorStatus, "CONNECTOR_STATUS_", status, "status"
            ),
            needle=(q or "").lower(),
        )  # fmt: skip
        return page_of(mirror.records, mirror.record_json, query, page_size, page_token)
    values: dict[str, Any] = {
        "site_id": site_id,
        "online": None if online is None else ("online" if online else "offline"),
        "connector_status": enum_name(
            station_events.ConnectorStatus, "CONNECTOR_STATUS_", status, "status"
        ),
        "registration_status": enum_name(
            pb.RegistrationStatus,
            "REGISTRATION_STATUS_",
            registration_status,
            "registration_status",
        ),
        "vendor": vendor,
        "model": model,
        "firmware_version": firmware_version,
    }
    if not q:
        request = build(pb.ListStationsRequest, {**values, "page": page(page_size, page_token)})
        return station_list_json(await b.call("stations", "ListStations", request, caller))
    return await _search(b, caller, values, q.lower(), page_size, page_token)


async def _search(
    b: Backends, caller: Caller, values: dict[str, Any], needle: str, size: int, token: str | None
) -> dict[str, Any]:
    try:
        offset = int(token or 0)
    except ValueError as exc:
        raise Problem(422, "page_token: not a token of this search") from exc
    found: list[pb.Station] = []
    scan = ""
    while True:
        request = build(pb.ListStationsRequest, {**values, "page": page(SEARCH_SCAN_PAGE, scan)})
        reply = await b.call("stations", "ListStations", request, caller)
        found += [s for s in reply.stations if _matches(s, needle)]
        scan = reply.next_page_token
        if not scan:
            break
    chunk = found[offset : offset + size]
    following = offset + size if offset + size < len(found) else None
    return {
        "stations": [station_json(s) for s in chunk],
        "next_page_token": "" if following is None else str(following),
        "total": len(found),
    }


@router.get("/stations/{station_id}")
async def get_station(
    station_id: str, caller: Viewer, b: B, mirror: Annotated[LiveMirror, Depends(live)]
) -> dict[str, Any]:
    """The station with its EVSEs and connectors (each with its status) and whether it is live."""
    station = await b.call(
        "stations", "GetStation", pb.GetStationRequest(station_id=station_id), caller
    )
    body = station_json(station)
    open_sessions = [to_json(s) for s in mirror.sessions.values() if s.station_id == station_id]
    body["active_sessions"] = open_sessions
    return body


@router.get("/stations/{station_id}/status-history")
async def status_history(
    station_id: str, caller: Viewer, b: B, mirror: Annotated[LiveMirror, Depends(live)]
) -> dict[str, Any]:
    """Status changes seen by this console since it started (newest last, up to 100)."""
    await b.call("stations", "GetStation", pb.GetStationRequest(station_id=station_id), caller)
    return {"station_id": station_id, "changes": list(mirror.history.get(station_id, ()))}


@router.get("/stations/{station_id}/configuration")
async def configuration_state(station_id: str, caller: Viewer, b: B) -> dict[str, Any]:
    """Desired vs reported configuration as the stations service tracks it."""
    request = pb.GetConfigurationStateRequest(station_id=station_id)
    return to_json(await b.call("stations", "GetConfigurationState", request, caller))


@router.get("/stations/{station_id}/variables")
async def reported_variables(
    station_id: str, caller: Viewer, b: B, page_size: PageSize = 200, page_token: PageToken = None
) -> dict[str, Any]:
    request = build(
        pb.ListReportedVariablesRequest,
        {"station_id": station_id, "page": page(page_size, page_token)},
    )
    return to_json(await b.call("stations", "ListReportedVariables", request, caller))
