"""Keyset paging with opaque tokens: a page resumes after the last key of the previous one."""

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


def encode_token(after: str | int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def page_of(request: PageRequest) -> Page:
    if request.page_size < 0:
        raise InvalidArgument("page_size must not be negative")
    size = min(request.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    if not request.page_token:
        return Page(size, None)
    try:
        data = json.loads(base64.urlsafe_b64decode(request.page_token.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidArgument("page_token is not a token this service issued") from exc
    after = data.get("after") if isinstance(data, dict) else None
    if not isinstance(after, str | int):
        raise InvalidArgument("page_token is not a token this service issued")
    return Page(size, str(after))
