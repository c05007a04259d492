"""Every route: the least role gets the service's answer, the role below gets 403 and the
service is never called; the caller's own token goes along to the service."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.console.fakes import Console

T0, T1 = "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"
# (method, path, json body, least role, service, rpc)
ROUTES: list[tuple[str, str, Any, str, str, str]] = [
    ("GET", "/sites", None, "viewer", "stations", "ListSites"),
    ("GET", "/sites/s1", None, "viewer", "stations", "GetSite"),
    ("POST", "/sites", {"id": "s1", "name": "Depot"}, "operator", "stations", "CreateSite"),
    ("GET", "/stations?site_id=s1&status=faulted&online=true", None, "viewer", "stations",
     "ListStations"),
    ("GET", "/stations?q=cp", None, "viewer", "stations", "ListStations"),
    ("GET", "/stations/CP1", None, "viewer", "stations", "GetStation"),
    ("GET", "/stations/CP1/status-history", None, "viewer", "stations", "GetStation"),
    ("GET", "/stations/CP1/configuration", None, "viewer", "stations", "GetConfigurationState"),
    ("GET", "/stations/CP1/variables", None, "viewer", "stations", "ListReportedVariables"),
    ("GET", "/stations/CP1/firmware", None, "viewer", "firmware", "GetStationUpdate"),
    ("POST", "/stations/CP1/commands/reset", {"kind": "hard"}, "operator", "gateway", "Reset"),
    ("POST", "/stations/CP1/commands/unlock", {"evse_id": 1, "connector_id": 1}, "operator",
     "gateway", "UnlockConnector"),
    ("POST", "/stations/CP1/commands/availability", {"operative": False}, "operator", "gateway",
     "ChangeAvailability"),
    ("POST", "/stations/CP1/commands/start", {"id_token": "TAG1", "evse_id": 1}, "operator",
     "gateway", "StartCharging"),
    ("POST", "/stations/CP1/commands/stop", {"transaction_id": "42"}, "operator", "gateway",
     "StopCharging"),
    ("POST", "/stations/CP1/commands/trigger", {"message": "StatusNotification"}, "operator",
     "gateway", "TriggerMessage"),
    ("POST", "/stations/CP1/commands/get-configuration", {"keys": ["HeartbeatInterval"]},
     "viewer", "gateway", "GetConfiguration"),
    ("POST", "/stations/CP1/commands/set-configuration",
     {"values": [{"key": "HeartbeatInterval", "value": "60"}]}, "operator", "gateway",
     "SetConfiguration"),
    ("GET", f"/sessions?status=completed&since={T0}", None, "viewer", "session", "ListSessions"),
    ("GET", "/sessions?active=true", None, "viewer", "session", "ActiveSessions"),
    ("GET", "/sessions/CP1:1", None, "viewer", "session", "GetSession"),
    ("GET", "/sessions/CP1:1/meter-samples", None, "viewer", "session", "MeterSamples"),
    ("GET", "/cdrs?station_id=CP1", None, "viewer", "billing", "ListCdrs"),
    ("GET", "/cdrs/export.csv", None, "viewer", "billing", "ListCdrs"),
    ("GET", "/cdrs/c1", None, "viewer", "billing", "GetCdr"),
    ("GET", "/tariffs", None, "viewer", "billing", "ListTariffs"),
    ("GET", "/tariffs/t1?version=2", None, "viewer", "billing", "GetTariff"),
    ("POST", "/tariffs", {"id": "t1", "currency": "EUR"}, "admin", "billing", "CreateTariff"),
    ("PUT", "/tariffs/t1", {"currency": "EUR"}, "admin", "billing", "UpdateTariff"),
    ("GET", "/tokens?status=blocked", None, "viewer", "authorization", "ListTokens"),
    ("GET", "/tokens/TAG1?type=ISO14443", None, "viewer", "authorization", "GetToken"),
    ("POST", "/tokens", {"id_token": "TAG1", "type": "TOKEN_TYPE_ISO14443"}, "admin",
     "authorization", "CreateToken"),
    ("PUT", "/tokens/TAG1", {"status": "AUTHORIZATION_STATUS_BLOCKED"}, "admin",
     "authorization", "UpdateToken"),
    ("DELETE", "/tokens/TAG1", None, "admin", "authorization", "DeleteToken"),
    ("GET", "/firmware/images", None, "viewer", "firmware", "ListImages"),
    ("POST", "/firmware/images", {"version": "2.0"}, "operator", "firmware", "AddImage"),
    ("GET", "/firmware/campaigns", None, "viewer", "firmware", "ListCampaigns"),
    ("GET", "/firmware/campaigns/k1", None, "viewer", "firmware", "GetCampaign"),
    ("POST", "/firmware/campaigns", {"image_id": "img1"}, "operator", "firmware", "CreateCampaign"),
    ("POST", "/firmware/campaigns/k1/pause", None, "operator", "firmware", "PauseCampaign"),
    ("POST", "/firmware/campaigns/k1/resume", None, "operator", "firmware", "ResumeCampaign"),
    ("POST", "/firmware/campaigns/k1/abort", None, "operator", "firmware", "AbortCampaign"),
    ("GET", "/logs?station_id=CP1", None, "viewer", "firmware", "ListLogs"),
    ("POST", "/stations/CP1/logs", {"kind": "DiagnosticsLog"}, "operator", "firmware",
     "RequestLogs"),
    ("GET", f"/security-events?since={T0}", None, "viewer", "firmware", "ListSecurityEvents"),
    ("GET", "/energy/sites/s1/load", None, "viewer", "energy", "GetSiteLoad"),
    ("PUT", "/energy/sites/s1/limit", {"limit_a": 63}, "operator", "energy", "SetLimit"),
    ("GET", "/energy/sites/s1/allocations", None, "viewer", "energy", "ListAllocations"),
    ("GET", "/energy/sites/s1/circuits", None, "viewer", "energy", "ListCircuits"),
    ("GET", "/energy/demand-response?site_id=s1", None, "viewer", "energy",
     "ListDemandResponses"),
    ("POST", "/energy/demand-response",
     {"site_id": "s1", "start": T0, "end": T1, "percent": 50}, "operator", "energy",
     "CreateDemandResponse"),
    ("DELETE", "/energy/demand-response/d1", None, "operator", "energy",
     "CancelDemandResponse"),
    ("GET", f"/analytics/energy?start={T0}&end={T1}&granularity=day", None, "viewer",
     "analytics", "Energy"),
    ("GET", f"/analytics/utilization?start={T0}&end={T1}&breakdown=hour_of_day", None, "viewer",
     "analytics", "Utilization"),
    ("GET", f"/analytics/uptime?start={T0}&end={T1}&scope=station&station_id=CP1", None,
     "viewer", "analytics", "Uptime"),
    ("GET", f"/analytics/peaks?start={T0}&end={T1}&scope=site&site_id=s1", None, "viewer",
     "analytics", "Peaks"),
    ("GET", f"/analytics/revenue?start={T0}&end={T1}", None, "viewer", "analytics", "Revenue"),
    ("GET", f"/analytics/sessions?start={T0}&end={T1}", None, "viewer", "analytics",
     "SessionStats"),
    ("GET", "/analytics/status", None, "viewer", "analytics", "Status"),
]  # fmt: skip
BELOW = {"operator": "viewer", "admin": "operator"}
IDS = [f"{m} {p.split('?')[0]}" for m, p, *_ in ROUTES]


def test_the_table_covers_every_route_of_the_openapi_document(console: Console) -> None:
    documented = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, item in console.app.openapi()["paths"].items()
        if path.startswith("/api/v1")
        for method in item
    }
    tested = {(m, p.split("?")[0]) for m, p, *_ in ROUTES}
    tested = {(m, _template(p)) for m, p in tested}
    untested = {r for r in documented - tested if r[1] not in SPECIAL}
    assert not untested


SPECIAL = {"/me", "/overview", "/events/ticket", "/events/stream"}


def _template(path: str) -> str:
    templates = {
        "/sites/s1": "/sites/{site_id}",
        "/stations/CP1": "/stations/{station_id}",
        "/sessions/CP1:1": "/sessions/{session_id}",
        "/cdrs/c1": "/cdrs/{cdr_id}",
        "/tariffs/t1": "/tariffs/{tariff_id}",
        "/tokens/TAG1": "/tokens/{id_token}",
        "/firmware/campaigns/k1": "/firmware/campaigns/{campaign_id}",
        "/energy/sites/s1": "/energy/sites/{site_id}",
        "/energy/demand-response/d1": "/energy/demand-response/{event_id}",
    }
    for concrete, template in sorted(templates.items(), key=lambda kv: -len(kv[0])):
        if path == concrete or path.startswith(concrete + "/"):
            path = template + path[len(concrete) :]
            break
    if path.startswith("/firmware/campaigns/{campaign_id}/"):
        return "/firmware/campaigns/{campaign_id}/{action}"
    if path.startswith("/analytics/") and path != "/analytics/status":
        return "/analytics/{figure}"
    return path


@pytest.mark.parametrize(("method", "path", "body", "role", "service", "rpc"), ROUTES, ids=IDS)
def test_the_least_role_reaches_the_service_with_its_own_token(
    console: Console, method: str, path: str, body: Any, role: str, service: str, rpc: str
) -> None:
    response = console.client.request(
        method, "/api/v1" + path, json=body, headers=console.headers(role)
    )
    assert response.status_code in (200, 201, 204), response.text
    calls = [c for c in console.calls(service) if c.method == rpc]
    assert calls, f"{rpc} was not called"
    assert ("authorization", f"Bearer {console.tokens[role]}") in calls[-1].metadata


@pytest.mark.parametrize(("method", "path", "body", "role", "service", "rpc"), ROUTES, ids=IDS)
def test_a_role_below_is_refused_before_any_service_is_called(
    console: Console, method: str, path: str, body: Any, role: str, service: str, rpc: str
) -> None:
    if role == "viewer":
        response = console.client.request(method, "/api/v1" + path, json=body)
        assert response.status_code == 401
    else:
        response = console.client.request(
            method, "/api/v1" + path, json=body, headers=console.headers(BELOW[role])
        )
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
        assert role in response.json()["detail"]
    assert not console.calls(service)
