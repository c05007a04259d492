"""A validated analytics query: scope, half-open UTC range, granularity and page.

Every RPC takes the same `AnalyticsQuery`; this is the one place that refuses what makes no
sense (an unknown scope, a range that ends before it starts or spans more than the service
allows, an unknown granularity, a bad page token) with INVALID_ARGUMENT and a message that
says what to send instead.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from chargegrid.api.analytics.v1 import analytics_pb2 as pb
from chargegrid.platform.grpc.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 5000
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class Kind(Enum):
    NETWORK = pb.SCOPE_KIND_NETWORK
    SITE = pb.SCOPE_KIND_SITE
    STATION = pb.SCOPE_KIND_STATION
    EVSE = pb.SCOPE_KIND_EVSE


class Grain(Enum):
    QUARTER = pb.GRANULARITY_15M
    HOUR = pb.GRANULARITY_HOUR
    DAY = pb.GRANULARITY_DAY
    MONTH = pb.GRANULARITY_MONTH


class Breakdown(Enum):
    TIME = pb.BREAKDOWN_TIME
    HOUR_OF_DAY = pb.BREAKDOWN_HOUR_OF_DAY
    DAY_OF_WEEK = pb.BREAKDOWN_DAY_OF_WEEK
    TOKEN_GROUP = pb.BREAKDOWN_TOKEN_GROUP


def breakdown_of(message: pb.AnalyticsQuery) -> Breakdown:
    try:
        return Breakdown(message.breakdown)
    except ValueError:
        raise InvalidArgument(
            f"unknown breakdown {message.breakdown}: use time, hour of day, day of week"
            " or (users) token group"
        ) from None


@dataclass(frozen=True, slots=True)
class Scope:
    kind: Kind
    site_id: str = ""
    station_id: str = ""
    evse_id: int = 0


@dataclass(frozen=True, slots=True)
class Query:
    scope: Scope
    start: datetime
    end: datetime
    grain: Grain
    offset: int
    size: int

    @property
    def start_s(self) -> int:
        return int(self.start.timestamp())

    @property
    def end_s(self) -> int:
        return int(self.end.timestamp())


def scope_of(message: pb.Scope) -> Scope:
    try:
        kind = Kind(message.kind)
    except ValueError:
        raise InvalidArgument(
            f"unknown scope kind {message.kind}: use network, site, station or evse"
        ) from None
    if kind is Kind.NETWORK:
        return Scope(kind)
    if kind is Kind.SITE:
        if not message.site_id:
            raise InvalidArgument("a site scope needs site_id")
        return Scope(kind, site_id=message.site_id)
    if not message.station_id:
        raise InvalidArgument(f"a {kind.name.lower()} scope needs station_id")
    if kind is Kind.STATION:
        return Scope(kind, station_id=message.station_id)
    if message.evse_id <= 0:
        raise InvalidArgument("an evse scope needs evse_id > 0")
    return Scope(kind, station_id=message.station_id, evse_id=message.evse_id)


def _offset(token: str) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = data["offset"] if isinstance(data, dict) else None
    except (ValueError, KeyError, binascii.Error, UnicodeDecodeError):
        offset = None
    if not isinstance(offset, int) or offset < 0:
        raise InvalidArgument("page_token is not a token this service issued")
    return offset


def next_token(query: Query, returned: int) -> str:
    """The token of the page after this one; "" when this page was not full."""
    if returned < query.size:
        return ""
    payload = json.dumps({"offset": query.offset + returned}).encode()
    return base64.urlsafe_b64encode(payload).decode()


def query_of(message: pb.AnalyticsQuery, max_days: int) -> Query:
    scope = scope_of(message.scope)
    if not message.HasField("start") or not message.HasField("end"):
        raise InvalidArgument("start and end are required")
    start = message.start.ToDatetime(tzinfo=UTC)
    end = message.end.ToDatetime(tzinfo=UTC)
    if end <= start:
        raise InvalidArgument(f"the range ends ({end.isoformat()}) before it starts")
    if start < EARLIEST or end > LATEST:
        raise InvalidArgument("the range must lie between 2000 and 2200")
    if end - start > timedelta(days=max_days):
        raise InvalidArgument(f"the range spans more than {max_days} days; query in parts")
    try:
        grain = Grain(message.granularity)
    except ValueError:
        raise InvalidArgument(
            f"unknown granularity {message.granularity}: use 15m, hour, day or month"
        ) from None
    if message.page.page_size < 0:
        raise InvalidArgument("page_size must not be negative")
    size = min(message.page.page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    return Query(scope, start, end, grain, _offset(message.page.page_token), size)
