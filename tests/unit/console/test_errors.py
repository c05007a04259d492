"""Every failure is RFC 9457 problem+json, and each gRPC status maps to its HTTP status."""

from __future__ import annotations

from pathlib import Path

import grpc
import httpx
import pytest

from tests.unit.console.fakes import Console, a_console, rpc_error

MAPPING = [
    (grpc.StatusCode.NOT_FOUND, 404),
    (grpc.StatusCode.ALREADY_EXISTS, 409),
    (grpc.StatusCode.FAILED_PRECONDITION, 409),
    (grpc.StatusCode.ABORTED, 409),
    (grpc.StatusCode.INVALID_ARGUMENT, 422),
    (grpc.StatusCode.OUT_OF_RANGE, 422),
    (grpc.StatusCode.UNAUTHENTICATED, 401),
    (grpc.StatusCode.PERMISSION_DENIED, 403),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
    (grpc.StatusCode.UNIMPLEMENTED, 501),
    (grpc.StatusCode.UNAVAILABLE, 503),
    (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
    (grpc.StatusCode.INTERNAL, 502),
    (grpc.StatusCode.UNKNOWN, 502),
]


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"] == "about:blank"
    return body


@pytest.mark.parametrize(("code", "status"), MAPPING, ids=[c.name for c, _ in MAPPING])
def test_a_grpc_status_becomes_its_http_problem(
    console: Console, code: grpc.StatusCode, status: int
) -> None:
    console.stubs["stations"].replies["GetStation"] = rpc_error(code, "station CP9 said no")
    response = console.client.get("/api/v1/stations/CP9", headers=console.headers("viewer"))
    body = _problem(response, status)
    assert body["service"] == "stations"
    assert body["grpc_status"] == code.name
    assert body["instance"] == "/api/v1/stations/CP9"


def test_an_unknown_id_is_404_with_the_services_reason(console: Console) -> None:
    console.stubs["billing"].replies["GetCdr"] = rpc_error(grpc.StatusCode.NOT_FOUND, "no CDR x")
    body = _problem(console.client.get("/api/v1/cdrs/x", headers=console.headers("viewer")), 404)
    assert body["detail"] == "no CDR x"


def test_a_service_that_is_down_is_503_naming_it(console: Console) -> None:
    console.stubs["energy"].replies["GetSiteLoad"] = rpc_error(
        grpc.StatusCode.UNAVAILABLE, "connection refused"
    )
    response = console.client.get("/api/v1/energy/sites/s1/load", headers=console.headers("viewer"))
    body = _problem(response, 503)
    assert body["service"] == "energy"
    assert "energy service is unavailable" in body["detail"]


def test_a_station_that_does_not_answer_is_504(console: Console) -> None:
    console.stubs["gateway"].replies["Reset"] = rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED)
    response = console.client.post(
        "/api/v1/stations/CP1/commands/reset", json={}, headers=console.headers("operator")
    )
    assert "did not answer in time" in _problem(response, 504)["detail"]


def test_a_service_without_an_address_is_503(tmp_path: Path) -> None:
    console = a_console(tmp_path, missing=("analytics",))
    response = console.client.get("/api/v1/analytics/status", headers=console.headers("viewer"))
    body = _problem(response, 503)
    assert body["service"] == "analytics"
    assert "CHARGEGRID_CONSOLE_ANALYTICS_ADDRESS" in body["detail"]


def test_malformed_json_is_422_and_nothing_is_sent(console: Console) -> None:
    response = console.client.post(
        "/api/v1/tariffs",
        content=b'{"id": "t1", ',
        headers={**console.headers("admin"), "content-type": "application/json"},
    )
    assert "not valid JSON" in _problem(response, 422)["detail"]
    assert not console.calls("billing")


def test_an_unknown_field_in_a_body_is_422(console: Console) -> None:
    response = console.client.post(
        "/api/v1/tokens", json={"id_token": "T", "colour": "red"}, headers=console.headers("admin")
    )
    assert "colour" in _problem(response, 422)["detail"]
    assert not console.calls("authorization")


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("/api/v1/stations?status=sparkling", "status: unknown value 'sparkling'"),
        ("/api/v1/stations?page_size=0", "page_size"),
        ("/api/v1/sessions?since=yesterday", "since"),
        ("/api/v1/sessions?since=2026-12-01T00:00:00", "UTC offset"),
        ("/api/v1/analytics/energy?start=2026-12-02T00:00:00Z&end=2026-12-01T00:00:00Z",
         "end must be after start"),
        ("/api/v1/analytics/energy?start=2026-12-01T00:00:00Z&end=2026-12-02T00:00:00Z"
         "&scope=site", "needs site_id"),
        ("/api/v1/analytics/energy", "start"),
    ],
)  # fmt: skip
def test_bad_query_parameters_are_422_and_nothing_is_sent(
    console: Console, path: str, needle: str
) -> None:
    body = _problem(console.client.get(path, headers=console.headers("viewer")), 422)
    assert needle in body["detail"]
    assert not any(stub.calls for stub in console.stubs.values())


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "sideways"},
        {"evse_id": -1},
        {"kind": "soft", "evse_id": "one"},
    ],
)
def test_a_bad_command_body_is_422_and_never_reaches_the_station(
    console: Console, body: dict
) -> None:
    response = console.client.post(
        "/api/v1/stations/CP1/commands/reset", json=body, headers=console.headers("operator")
    )
    assert _problem(response, 422)["errors"]
    assert not console.calls("gateway")


def test_a_demand_response_needs_exactly_one_reduction(console: Console) -> None:
    response = console.client.post(
        "/api/v1/energy/demand-response",
        json={"site_id": "s1", "start": "2026-12-01T00:00:00Z", "end": "2026-12-01T01:00:00Z",
              "percent": 50, "limit_a": 10},
        headers=console.headers("operator"),
    )  # fmt: skip
    assert "exactly one" in _problem(response, 422)["detail"]
    assert not console.calls("energy")


def test_a_body_over_the_limit_is_413(tmp_path: Path) -> None:
    console = a_console(tmp_path, max_body_bytes=1000)
    big = {"id": "t1", "currency": "EUR", "name": "x" * 2000}
    response = console.client.post("/api/v1/tariffs", json=big, headers=console.headers("admin"))
    assert "larger than 1000 bytes" in _problem(response, 413)["detail"]
    # Streamed without a length: counted while it arrives.
    chunks = iter([b'{"id": "t1", "name": "', b"x" * 1500, b'"}'])
    response = console.client.post(
        "/api/v1/tariffs",
        content=chunks,
        headers={**console.headers("admin"), "content-type": "application/json"},
    )
    _problem(response, 413)
    assert not console.calls("billing")


def test_an_unknown_path_is_a_404_problem(console: Console) -> None:
    body = _problem(console.client.get("/api/v1/chargers", headers=console.headers("viewer")), 404)
    assert "/api/v1/chargers" in body["detail"]


def test_a_wrong_method_is_a_405_problem(console: Console) -> None:
    _problem(console.client.delete("/api/v1/sites", headers=console.headers("admin")), 405)


def test_a_path_id_that_differs_from_the_bodys_is_422(console: Console) -> None:
    response = console.client.put(
        "/api/v1/tariffs/t1", json={"id": "t2"}, headers=console.headers("admin")
    )
    assert "differs" in _problem(response, 422)["detail"]
    assert not console.calls("billing")


def test_a_query_number_beyond_its_proto_int32_is_a_422_problem(console: Console) -> None:
    response = console.client.get(
        "/api/v1/tariffs/t1?version=2147483648", headers=console.headers("viewer")
    )
    _problem(response, 422)
    assert not console.calls("billing")
