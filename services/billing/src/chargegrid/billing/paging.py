"""Page sizes and opaque page tokens, checked the same way for every list."""

from __future__ import annotations

import base64
import binascii

from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.platform.grpc.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def page_size(page: PageRequest) -> int:
    if page.page_size < 0 or page.page_size > MAX_PAGE_SIZE:
        raise InvalidArgument(
            f"page.page_size: between 0 (default {DEFAULT_PAGE_SIZE}) and {MAX_PAGE_SIZE}, "
            f"got {page.page_size}"
        )
    return page.page_size or DEFAULT_PAGE_SIZE


def encode_token(cursor: str) -> str:
    return base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")


def decode_token(token: str) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidArgument("page.page_token: not a token this service gave out") from exc


def decode_int_token(token: str) -> int:
    cursor = decode_token(token)
    if not cursor:
        return 0
    if not cursor.isdigit():
        raise InvalidArgument("page.page_token: not a token this service gave out")
    return int(cursor)
