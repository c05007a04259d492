"""Keyset paging with opaque tokens: a page resumes after the last key of the previous one.

Tokens are URL-safe base64 of a small JSON object, so callers cannot mistake them for ids,
and a token that does not decode is INVALID_ARGUMENT rather than a silent first page.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.platform.grpc.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Page:
    size: int
    after: str | None


def encode_token(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def decode_token(token: str) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidArgument("page_token is not a token this service issued") from exc
    after = data.get("after") if isinstance(data, dict) else None
    if not isinstance(after, str):
        raise InvalidArgument("page_token is not a token this service issued")
    return after


def page_of(request: PageRequest) -> Page:
    """The page a request asks for: 0 = default size, over MAX_PAGE_SIZE refused."""
    size = request.page_size
    if size < 0 or size > MAX_PAGE_SIZE:
        raise InvalidArgument(f"page_size must be between 0 and {MAX_PAGE_SIZE}, got {size}")
    after = decode_token(request.page_token) if request.page_token else None
    return Page(size or DEFAULT_PAGE_SIZE, after)


def next_token(keys: list[str], page: Page) -> str:
    """A token for the next page when this one came back full (one extra row was fetched)."""
    return encode_token(keys[page.size - 1]) if len(keys) > page.size else ""
