"""Proto <-> domain translation for the gRPC edge, and the validation of what comes in.

Everything a caller can get wrong is refused here with INVALID_ARGUMENT and a message that
names the field, before any state is touched: unknown enum numbers, statuses that are only
answers (ConcurrentTx, NotAtThisLocation, Unknown), a scope without a target, page sizes
out of range, ids that break the product's identifier rules (`chargegrid.platform.
identifiers`: a stored id token is what a station can send, CiString36 of printable ASCII).
Lookups of an existing token only check the stored column's length, so tokens stored before
the rule can still be read and deleted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.api.common.v1.common_pb2 import PageRequest
from chargegrid.authorization.domain import (
    MAX_CONCURRENT_LIMIT,
    MAX_LANGUAGE,
    MAX_PERSONAL_MESSAGE,
    PURPOSES,
    TOKEN_TYPES,
    AuditEntry,
    AuthorizeQuery,
    Decision,
    Scope,
    SyncRecord,
    Token,
    TokenKey,
)
from chargegrid.platform import identifiers as ids
from chargegrid.platform import text_limits as limits
from chargegrid.platform.bus.envelope import set_timestamp
from chargegrid.platform.grpc import InvalidArgument

MAX_PAGE = 1000
DEFAULT_PAGE = 100
MAX_ID = 255
MAX_ALLOWED_SITES = 1_000
MAX_TOKEN_TYPE = 32  # the audit column; OCPP's type names are at most 15
SOURCE = re.compile(r"^(local|ocpi:[A-Za-z]{2}-[A-Za-z0-9]{3})$")
#: An RFC 5646 tag as 2.0.1 can carry it (language1 and MessageContent.language: string(8)).
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,4})?$")

TYPE_BY_ENUM: dict[int, str] = {number: name for number, name in enumerate(TOKEN_TYPES, start=1)}
ENUM_BY_TYPE = {name: number for number, name in TYPE_BY_ENUM.items()}
STORED_BY_ENUM = {
    pb.AUTHORIZATION_STATUS_ACCEPTED: "Accepted",
    pb.AUTHORIZATION_STATUS_BLOCKED: "Blocked",
    pb.AUTHORIZATION_STATUS_EXPIRED: "Expired",
    pb.AUTHORIZATION_STATUS_INVALID: "Invalid",
}
ENUM_BY_STATUS: dict[str, int] = {
    **{name: number for number, name in STORED_BY_ENUM.items()},
    "ConcurrentTx": pb.AUTHORIZATION_STATUS_CONCURRENT_TX,
    "NotAtThisLocation": pb.AUTHORIZATION_STATUS_NOT_AT_THIS_LOCATION,
    "Unknown": pb.AUTHORIZATION_STATUS_UNKNOWN,
}


def to_timestamp(target: Timestamp, when: datetime | None) -> None:
    if when is not None:
        set_timestamp(target, when)


def from_timestamp(stamp: Timestamp) -> datetime | None:
    if not stamp.seconds and not stamp.nanos:
        return None
    return stamp.ToDatetime(tzinfo=UTC)


def token_type(number: int, field: str = "type", *, optional: bool = False) -> str | None:
    if number == pb.TOKEN_TYPE_UNSPECIFIED and optional:
        return None
    if number == pb.TOKEN_TYPE_UNSPECIFIED:
        return "ISO14443"
    name = TYPE_BY_ENUM.get(int(number))
    if name is None:
        raise InvalidArgument(f"{field}: unknown token type {number}")
    return name


def stored_status(number: int, field: str = "status") -> str:
    """The storable status, or "" for UNSPECIFIED (the caller picks the default)."""
    if number == pb.AUTHORIZATION_STATUS_UNSPECIFIED:
        return ""
    name: str | None = STORED_BY_ENUM.get(number)  # type: ignore[call-overload]
    if name is None:
        raise InvalidArgument(
            f"{field}: {number} cannot be stored; use Accepted, Blocked, Expired or Invalid"
        )
    return name


def id_token(value: str, field: str = "id_token") -> str:
    """An id token to look up: any that fits the stored column."""
    if not value:
        raise InvalidArgument(f"{field} is required")
    if len(value) > MAX_ID:
        raise InvalidArgument(f"{field} is longer than {MAX_ID} characters")
    return value


def token_from_proto(message: pb.Token, field: str = "token") -> Token:
    ident = ids.ID_TOKEN.check(message.id_token, f"{field}.id_token")
    if message.group_id == ident:
        raise InvalidArgument(f"{field}.group_id: a token cannot be its own group")
    # A group is itself an id token (2.0.1 groupIdToken, 1.6 parentIdTag).
    ids.ID_TOKEN.check_optional(message.group_id, f"{field}.group_id")
    limits.bounded(message.owner_ref, f"{field}.owner_ref", limits.REFERENCE)
    source = message.source or "local"
    if not SOURCE.match(source):
        raise InvalidArgument(
            f"{field}.source: {message.source!r} is neither 'local' nor 'ocpi:<cc>-<party>'"
        )
    sites = tuple(dict.fromkeys(message.allowed_site_ids))
    if any(not s for s in sites):
        raise InvalidArgument(f"{field}.allowed_site_ids: empty site id")
    if len(sites) > MAX_ALLOWED_SITES:
        raise InvalidArgument(f"{field}.allowed_site_ids: at most {MAX_ALLOWED_SITES} sites")
    for n, site in enumerate(sites):
        ids.SITE_ID.check(site, f"{field}.allowed_site_ids[{n}]")
    concurrent = message.max_concurrent_transactions
    if not 0 <= concurrent <= MAX_CONCURRENT_LIMIT:
        raise InvalidArgument(
            f"{field}.max_concurrent_transactions: {concurrent} is not between 0 (the "
            f"group's setting) and {MAX_CONCURRENT_LIMIT}"
        )
    message_text = limits.bounded(
        message.personal_message, f"{field}.personal_message", MAX_PERSONAL_MESSAGE
    )
    if message.language and not LANGUAGE.match(message.language):
        raise InvalidArgument(
            f"{field}.language: {message.language!r} is not a language tag of at most "
            f"{MAX_LANGUAGE} characters (RFC 5646, e.g. 'nl' or 'en-GB')"
        )
    return Token(
        id_token=ident,
        type=token_type(message.type, f"{field}.type") or "ISO14443",
        status=stored_status(message.status, f"{field}.status"),
        expires_at=from_timestamp(message.expires_at),
        group_id=message.group_id,
        owner_ref=message.owner_ref,
        allowed_site_ids=sites,
        source=source,
        max_concurrent_transactions=concurrent,
        personal_message=message_text,
        language=message.language,
    )


def token_to_proto(token: Token) -> pb.Token:
    message = pb.Token(
        id_token=token.id_token,
        type=ENUM_BY_TYPE[token.type],  # type: ignore[arg-type]
        status=ENUM_BY_STATUS[token.status],  # type: ignore[arg-type]
        group_id=token.group_id,
        owner_ref=token.owner_ref,
        allowed_site_ids=list(token.allowed_site_ids),
        source=token.source,
        max_concurrent_transactions=token.max_concurrent_transactions,
        personal_message=token.personal_message,
        language=token.language,
    )
    to_timestamp(message.expires_at, token.expires_at)
    to_timestamp(message.created_at, token.created_at)
    to_timestamp(message.updated_at, token.updated_at)
    return message


def token_key(ident: str, number: int, field: str = "") -> tuple[str, str | None]:
    """(id, type or None when unspecified) of a token reference."""
    prefix = f"{field}." if field else ""
    return id_token(ident, f"{prefix}id_token"), token_type(number, f"{prefix}type", optional=True)


def ref_keys(refs: list[pb.TokenRef]) -> list[TokenKey]:
    if not refs:
        raise InvalidArgument("tokens: give at least one token")
    return [
        (
            id_token(ref.id_token, f"tokens[{n}].id_token"),
            token_type(ref.type, f"tokens[{n}].type") or "ISO14443",
        )
        for n, ref in enumerate(refs)
    ]


def scope_from_proto(message: pb.LocalListScope) -> Scope:
    target = message.WhichOneof("target")
    if target is None:
        raise InvalidArgument("scope: give a station_id or a site_id")
    value = message.station_id if target == "station_id" else message.site_id
    if not value:
        raise InvalidArgument(f"scope.{target} is empty")
    rule = ids.STATION_ID if target == "station_id" else ids.SITE_ID
    rule.check(value, f"scope.{target}")
    return Scope("station" if target == "station_id" else "site", value)


def station_id(value: str, field: str = "station_id") -> str:
    return ids.STATION_ID.check(value, field)


def scope_to_proto(scope: Scope) -> pb.LocalListScope:
    if scope.kind == "station":
        return pb.LocalListScope(station_id=scope.id)
    return pb.LocalListScope(site_id=scope.id)


def page_size(page: PageRequest) -> int:
    if page.page_size < 0 or page.page_size > MAX_PAGE:
        raise InvalidArgument(f"page.page_size must be between 0 and {MAX_PAGE}")
    return page.page_size or DEFAULT_PAGE


def query_from_proto(request: pb.AuthorizeRequest) -> AuthorizeQuery:
    ids.STATION_ID.check(request.station_id, "station_id")
    purpose = request.purpose or "authorize"
    if purpose not in PURPOSES:
        raise InvalidArgument(f"purpose: {request.purpose!r} is not one of {', '.join(PURPOSES)}")
    if not request.id_token and request.token_type.lower() != "noauthorization":
        raise InvalidArgument("id_token is required")
    # What a station sent is judged (an unknown token is Invalid), not refused; it only has
    # to fit the audit's columns.
    if request.id_token:
        id_token(request.id_token)
    if len(request.token_type) > MAX_TOKEN_TYPE:
        raise InvalidArgument(f"token_type is longer than {MAX_TOKEN_TYPE} characters")
    ids.TRANSACTION_ID.check_optional(request.transaction_id, "transaction_id")
    return AuthorizeQuery(
        station_id=request.station_id,
        id_token=request.id_token,
        token_type=request.token_type,
        transaction_id=request.transaction_id,
        evse_id=request.evse_id,
        purpose=purpose,
    )


def decision_to_proto(decision: Decision) -> pb.AuthorizeReply:
    reply = pb.AuthorizeReply(
        status=ENUM_BY_STATUS[decision.status],  # type: ignore[arg-type]
        group_id=decision.group_id,
        reason=decision.reason,
        source=decision.source,
        personal_message=decision.personal_message,
        language=decision.language,
    )
    to_timestamp(reply.expires_at, decision.expires_at)
    to_timestamp(reply.cache_expires_at, decision.cache_expires_at)
    return reply


def sync_to_proto(record: SyncRecord) -> pb.LocalListSync:
    message = pb.LocalListSync(
        station_id=record.station_id,
        version=record.version,
        update_type=record.update_type,
        status=record.status,
    )
    to_timestamp(message.at, record.at)
    return message


def audit_to_proto(entry: AuditEntry) -> pb.Decision:
    message = pb.Decision(
        station_id=entry.station_id,
        id_token=entry.id_token,
        token_type=entry.token_type,
        purpose=entry.purpose,
        transaction_id=entry.transaction_id,
        status=ENUM_BY_STATUS.get(entry.status, pb.AUTHORIZATION_STATUS_UNKNOWN),  # type: ignore[arg-type]
        reason=entry.reason,
    )
    to_timestamp(message.at, entry.at)
    return message
