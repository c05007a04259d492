"""Keyset paging with opaque tokens: a page resumes after the last key of the previous one.

Tokens are URL-safe base64 of a small JSON object naming the listing they belong to, so a
token from another listing or one that does not decode is INVALID_ARGUMENT rather than a
silent first page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.platform.grpc.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Page:
    size: int
    after: list[Any] | None


def encode_token(listing: str, after: list[Any]) -> str:
    raw = json.dumps({"l": listing, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_token(listing: str, token: str) -> list[Any]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidArgument("page_token is not a token this service issued") from exc
    if (
        not isinstance(data, dict)
        or data.get("l") != listing
        or not isinstance(data.get("a"), list)
    ):
        raise InvalidArgument(f"page_token is not a token of {listing}")
    return list(data["a"])


def page_of(listing: str, request: PageRequest) -> Page:
    """The page a request asks for: 0 = default size, over MAX_PAGE_SIZE refused."""
    size = request.page_size
    if size < 0 or size > MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be between 0 and {MAX_PAGE_SIZE}, got {size}")
    after = decode_token(listing, request.page_token) if request.page_token else None
    return Page(size or DEFAULT_PAGE_SIZE, after)
