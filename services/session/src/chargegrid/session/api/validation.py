"""Request checks that turn bad input into INVALID_ARGUMENT / NOT_FOUND with a clear message."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.platform import identifiers as ids
from chargegrid.platform.grpc import InvalidArgument
from chargegrid.session.convert import STATUS_FROM_PB
from chargegrid.session.domain.model import session_id_of
from chargegrid.session.start_ids import StartAttempt


def session_id_from(request: pb.GetSessionRequest | pb.EndSessionRequest) -> str:
    """The session a request names: its id, or station_id + transaction_id."""
    if request.session_id:
        return session_id(request.session_id)
    if request.station_id and request.transaction_id:
        return session_id_of(
            ids.STATION_ID.check(request.station_id, "station_id"),
            ids.TRANSACTION_ID.check(request.transaction_id, "transaction_id"),
        )
    raise InvalidArgument("give session_id, or station_id and transaction_id")


#: A session id is "<station id>:<transaction id>".
MAX_SESSION_ID = ids.STATION_ID.max_length + 1 + ids.TRANSACTION_ID.max_length


def session_id(value: str, field: str = "session_id") -> str:
    if not value:
        raise InvalidArgument(f"{field} is required")
    if len(value) > MAX_SESSION_ID:
        raise InvalidArgument(f"{field} is longer than {MAX_SESSION_ID} characters")
    return value


def filters(station_id: str, site_id: str) -> tuple[str, str]:
    """Optional station and site filters, under the same rules as everywhere."""
    return (
        ids.STATION_ID.check_optional(station_id, "station_id"),
        ids.SITE_ID.check_optional(site_id, "site_id"),
    )


def allocation(request: pb.AllocateTransactionIdRequest) -> tuple[str, int]:
    return (
        ids.STATION_ID.check(request.station_id, "station_id"),
        ids.connector_id(request.connector_id, "connector_id"),
    )


def start_attempt(request: pb.AllocateTransactionIdRequest) -> StartAttempt | None:
    """The StartTransaction an allocation is for, or None: the gateway did not say, or what
    it said cannot be matched (an id is still allocated; the retry simply gets a new one)."""
    if not request.id_tag or not request.HasField("started_at"):
        return None
    if not math.isfinite(request.meter_start_wh):
        return None
    try:
        started_at = request.started_at.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    station_id, connector_id = allocation(request)
    return StartAttempt(
        station_id, connector_id, request.id_tag, started_at, request.meter_start_wh
    )


def status_filter(status: int) -> str:
    """ "" for UNSPECIFIED (any status), else the status name; unknown numbers refused."""
    if status == pb.SESSION_STATUS_UNSPECIFIED:
        return ""
    try:
        return STATUS_FROM_PB[status]  # type: ignore[index]
    except KeyError:
        raise InvalidArgument(f"status {status} is not a SessionStatus") from None


def optional_time(stamp: Timestamp, field: str) -> datetime | None:
    if not stamp.seconds and not stamp.nanos:
        return None
    if stamp.seconds < 0:
        raise InvalidArgument(f"{field} is before 1970")
    return stamp.ToDatetime(tzinfo=UTC)


def time_window(request: pb.ListSessionsRequest) -> tuple[datetime | None, datetime | None]:
    since = optional_time(request.since, "since") if request.HasField("since") else None
    until = optional_time(request.until, "until") if request.HasField("until") else None
    if since is not None and until is not None and until <= since:
        raise InvalidArgument("until must be after since")
    return since, until


def parse_time(value: object, what: str) -> datetime:
    """A time from a page token."""
    if not isinstance(value, str):
        raise InvalidArgument(f"page_token is not a token of {what}")
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(f"page_token is not a token of {what}") from None
