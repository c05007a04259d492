"""Fuzzed HTTP requests against the console API and the roaming OCPI endpoints of the stack.

schemathesis generates requests from each service's own OpenAPI document: valid ones with
extreme values, and invalid ones (wrong types, missing fields, bad headers). No answer is a
5xx; every console refusal is problem+json whose `status` is the HTTP status; every OCPI
refusal is the OCPI envelope with a client-error status_code (2xxx, or 3002 for an
unsupported version).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import given
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode

from tests.fuzz.conftest import FuzzStack
from tests.fuzz.fuzz_settings import examples, fuzz_settings

MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
#: Server-sent events never end: a request would only time out.
ENDLESS = {"/api/v1/events/stream"}
UNSUPPORTED_VERSION = 3002


def _console_refusal(status: int, content_type: str, body: Any) -> str | None:
    if not content_type.startswith("application/problem+json"):
        return f"{status} with content type {content_type!r}"
    if not isinstance(body, dict) or body.get("status") != status:
        return f"{status} whose problem says {body!r}"
    return None


def _ocpi_refusal(status: int, content_type: str, body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("status_code"), int):
        return f"{status} without the OCPI envelope: {body!r}"
    # 3002 "Unsupported version" is OCPI's own answer to a version it does not speak.
    if not 2000 <= body["status_code"] < 3000 and body["status_code"] != UNSUPPORTED_VERSION:
        return f"{status} with OCPI status {body['status_code']}"
    return None


def _fuzz(
    base_url: str,
    spec_path: str,
    headers: dict[str, str],
    refusal: Callable[[int, str, Any], str | None],
    ci_examples: int,
) -> list[str]:
    """Every operation in both modes; returns what went wrong (one line per operation)."""
    schema = schemathesis.openapi.from_url(base_url + spec_path)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema raises here
        if operation.path in ENDLESS:
            continue
        for mode in MODES:

            @fuzz_settings(ci_examples)
            @given(case=operation.as_strategy(generation_mode=mode))
            def answers(case: Any) -> None:
                response = case.call(base_url=base_url, headers=headers, timeout=30)
                where = f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}"
                assert response.status_code < 500, f"{response.status_code} for {where}"
                if response.status_code >= 400:
                    content_type = response.headers.get("content-type", [""])[0]
                    body = json.loads(response.content) if response.content else None
                    wrong = refusal(response.status_code, content_type, body)
                    assert wrong is None, f"{wrong} for {where}"

            try:
                answers()
            except Unsatisfiable:
                continue  # nothing about this operation can be made invalid in this mode
            except AssertionError as exc:
                failures.append(
                    f"{operation.method.upper()} {operation.path} ({mode.value}): {exc}"[:2000]
                )
    return failures


@pytest.mark.timeout(300 + 4 * examples(2) * 60)
def test_the_console_api_never_fails_on_fuzzed_requests(fuzz_stack: FuzzStack) -> None:
    headers = {"Authorization": f"Bearer {fuzz_stack.admin_token}"}
    failures = _fuzz(fuzz_stack.console_url, "/api/openapi.json", headers, _console_refusal, 2)

    assert failures == []


@pytest.fixture(scope="module")
def token_a(fuzz_stack: FuzzStack) -> str:
    added = json.loads(fuzz_stack.cli("roaming", "partners", "add", "fuzzpeer", "--json").stdout)
    return str(added["token_a"])


@pytest.mark.timeout(300 + 4 * examples(2) * 20)
def test_the_ocpi_endpoints_never_fail_on_fuzzed_requests(
    fuzz_stack: FuzzStack, token_a: str
) -> None:
    encoded = base64.b64encode(token_a.encode()).decode()
    headers = {"Authorization": f"Token {encoded}"}
    failures = _fuzz(fuzz_stack.roaming_url, "/openapi.json", headers, _ocpi_refusal, 2)

    assert failures == []
