"""Pagination of OCPI GET lists (transport_and_format.asciidoc, 'Pagination').

`offset` and `limit` are query parameters; a `limit` above the server's maximum is clamped and
`X-Limit` tells the client the limit applied. `X-Total-Count` is the size of the whole
(filtered) list and `Link: <url>; rel="next"` the next page, absent on the last one.
`date_from` (inclusive) and `date_to` (exclusive) filter on `last_updated`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from fastapi.responses import JSONResponse
from starlette.requests import Request
from starlette.responses import Response

from chargegrid.roaming.ocpi.envelope import OcpiResponse, envelope, parse_ocpi_time
from chargegrid.roaming.ocpi.status import invalid


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int
    date_from: datetime | None = None
    date_to: datetime | None = None


#: Larger offsets and limits mean "everything after": capped so the database takes them
#: (PostgreSQL's OFFSET is a bigint; a 30-digit number would fail the query).
MAX_INT = 2**31 - 1


def _int(request: Request, name: str, default: int) -> int:
    text = request.query_params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise invalid(f"{name} must be a whole number, got {text!r}") from None
    if value < 0:
        raise invalid(f"{name} must not be negative, got {value}")
    return min(value, MAX_INT)


def _time(request: Request, name: str) -> datetime | None:
    text = request.query_params.get(name)
    if not text:
        return None
    try:
        return parse_ocpi_time(text, name)
    except ValueError as exc:
        raise invalid(str(exc)) from None


def page_of(request: Request, default_limit: int, max_limit: int) -> Page:
    """The page a request asks for; bad values are an OCPI 2001 error (HTTP 400)."""
    limit = _int(request, "limit", default_limit)
    page = Page(
        offset=_int(request, "offset", 0),
        limit=min(limit, max_limit),
        date_from=_time(request, "date_from"),
        date_to=_time(request, "date_to"),
    )
    if page.date_from and page.date_to and page.date_from >= page.date_to:
        raise invalid("date_from must be before date_to")
    return page


def paged_raw_response(
    request: Request,
    items: list[str],
    total: int,
    page: Page,
) -> Response:
    """`paged_response` for items already rendered as JSON text (spliced, not re-parsed)."""
    head = orjson.dumps(envelope())[:-1]
    body = head + b',"data":[' + ",".join(items).encode() + b"]}"
    return Response(
        body, media_type="application/json", headers=_headers(request, items, total, page)
    )


def _headers(request: Request, items: list[Any], total: int, page: Page) -> dict[str, str]:
    extra = {"X-Total-Count": str(total), "X-Limit": str(page.limit)}
    following = page.offset + len(items)
    if items and following < total:
        url = request.url.include_query_params(offset=following, limit=page.limit)
        extra["Link"] = f'<{url}>; rel="next"'
    return extra


def paged_response(
    request: Request,
    items: list[Any],
    total: int,
    page: Page,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The envelope of one page with X-Total-Count, X-Limit and Link headers."""
    extra = dict(headers or {}) | _headers(request, items, total, page)
    return OcpiResponse(envelope(items), headers=extra)
