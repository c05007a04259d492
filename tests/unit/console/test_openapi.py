"""The OpenAPI document validates and the docs page is served."""

from __future__ import annotations

from openapi_spec_validator import validate

from tests.unit.console.fakes import Console


def test_the_openapi_document_is_valid(console: Console) -> None:
    document = console.client.get("/api/openapi.json").json()
    validate(document)
    assert len([p for p in document["paths"] if p.startswith("/api/v1/")]) >= 40


def test_the_docs_page_is_served(console: Console) -> None:
    response = console.client.get("/api/docs")
    assert response.status_code == 200
    assert "/api/openapi.json" in response.text


def test_metrics_are_served_on_the_http_port(console: Console) -> None:
    response = console.client.get("/metrics")
    assert response.status_code == 200
    assert "python_info" in response.text or "process_" in response.text
