"""Bearer tokens from the registry, roles, and event-stream tickets."""

from __future__ import annotations

import httpx
import pytest

from tests.unit.console.fakes import Console


def _status_and_detail(response: httpx.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/problem+json"
    return response.status_code, response.json()["detail"]


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_me_names_the_caller_and_its_role(console: Console, role: str) -> None:
    response = console.client.get("/api/v1/me", headers=console.headers(role))
    assert response.json() == {"name": f"{role}-user", "role": role}


@pytest.mark.parametrize(
    ("header", "needle"),
    [
        (None, "missing bearer token"),
        ("Basic dXNlcjpwdw==", "must be 'Bearer"),
        ("Bearer ", "must be 'Bearer"),
        ("Bearer not-a-token", "invalid or revoked"),
    ],
)
def test_a_missing_or_wrong_token_is_401(console: Console, header: str | None, needle: str) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = console.client.get("/api/v1/me", headers=headers)
    status, detail = _status_and_detail(response)
    assert status == 401
    assert needle in detail
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_revoked_token_is_refused_at_once(console: Console) -> None:
    token = console.registry.add("temp", "operator")
    assert console.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).is_success
    console.registry.remove("temp")
    response = console.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_a_service_token_may_not_use_the_console(console: Console) -> None:
    status, detail = _status_and_detail(
        console.client.get("/api/v1/me", headers=console.headers("service"))
    )
    assert status == 403
    assert "service" in detail


def test_a_ticket_opens_the_stream_and_dies_with_its_time(console: Console) -> None:
    reply = console.client.post("/api/v1/events/ticket", headers=console.headers("viewer"))
    ticket = reply.json()["ticket"]
    assert reply.json()["expires_in_s"] == 60.0
    assert console.auth.from_ticket(ticket).name == "viewer-user"
    clock = console.auth.clock
    try:
        console.auth.clock = lambda: clock() + 61
        response = console.client.get(f"/api/v1/events/stream?ticket={ticket}")
        status, detail = _status_and_detail(response)
        assert (status, "expired" in detail) == (401, True)
    finally:
        console.auth.clock = clock


def test_an_unknown_ticket_is_401(console: Console) -> None:
    status, detail = _status_and_detail(console.client.get("/api/v1/events/stream?ticket=forged"))
    assert status == 401
    assert "unknown event-stream ticket" in detail


def test_a_ticket_is_worthless_once_its_token_is_revoked(console: Console) -> None:
    token = console.registry.add("leaver", "viewer")
    ticket = console.client.post(
        "/api/v1/events/ticket", headers={"Authorization": f"Bearer {token}"}
    ).json()["ticket"]
    console.registry.remove("leaver")
    assert console.client.get(f"/api/v1/events/stream?ticket={ticket}").status_code == 401


def test_a_ticket_is_not_an_api_token(console: Console) -> None:
    ticket = console.client.post("/api/v1/events/ticket", headers=console.headers("admin")).json()[
        "ticket"
    ]
    response = console.client.get("/api/v1/me", headers={"Authorization": f"Bearer {ticket}"})
    assert response.status_code == 401
