"""Plain values of the authorization domain: tokens, transactions, queries and decisions.

Statuses and token types use the OCPP spelling ("Accepted", "eMAID", ...) so the database,
the logs and the local lists read like the protocol; only the gRPC edge knows proto enums.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

Clock = Callable[[], datetime]

TOKEN_TYPES = (
    "ISO14443",
    "ISO15693",
    "eMAID",
    "Central",
    "KeyCode",
    "MacAddress",
    "NoAuthorization",
    "Local",
)
#: What a token may be stored as; the other decision statuses are only ever answers.
STORED_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")
DECISION_STATUSES = (*STORED_STATUSES, "ConcurrentTx", "NotAtThisLocation", "Unknown")
PURPOSES = ("authorize", "start", "transaction")
#: 1.6 idTags carry no type; the gateway sends "" (older events say "IdTag").
UNTYPED = ("", "IdTag")
DEFAULT_TYPE = "ISO14443"

_TYPE_BY_LOWER = {name.lower(): name for name in TOKEN_TYPES}


def utc_now() -> datetime:
    return datetime.now(UTC)


def canonical_type(spelling: str) -> str | None:
    """The OCPP spelling of a token type written in any case; None if it is none."""
    return _TYPE_BY_LOWER.get(spelling.lower())


TokenKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Token:
    id_token: str
    type: str = DEFAULT_TYPE
    status: str = "Accepted"
    expires_at: datetime | None = None
    group_id: str = ""
    owner_ref: str = ""
    allowed_site_ids: tuple[str, ...] = ()
    source: str = "local"
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted: bool = False
    #: Transactions the card may hold at once; 0 = its group's setting, else one.
    max_concurrent_transactions: int = 0
    #: Shown to the driver by 2.x stations (idTokenInfo.personalMessage); "" = nothing.
    personal_message: str = ""
    #: The driver's language (idTokenInfo.language1); "" = the station's own.
    language: str = ""

    @property
    def key(self) -> TokenKey:
        return (self.id_token, self.type)

    def expired(self, now: datetime) -> bool:
        return self.status == "Expired" or (self.expires_at is not None and self.expires_at <= now)

    def same_content(self, other: Token) -> bool:
        """Equal in everything an operator set (timestamps aside)."""
        return (
            self.status,
            self.expires_at,
            self.group_id,
            self.owner_ref,
            self.allowed_site_ids,
            self.source,
            self.deleted,
            self.max_concurrent_transactions,
            self.personal_message,
            self.language,
        ) == (
            other.status,
            other.expires_at,
            other.group_id,
            other.owner_ref,
            other.allowed_site_ids,
            other.source,
            other.deleted,
            other.max_concurrent_transactions,
            other.personal_message,
            other.language,
        )


#: 2.0.1 MessageContentType.content and idTokenInfo.language1 bounds.
MAX_PERSONAL_MESSAGE = 512
MAX_LANGUAGE = 8

#: Concurrent transactions of a card when neither it nor its group says otherwise.
DEFAULT_MAX_CONCURRENT = 1
MAX_CONCURRENT_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class ActiveTransaction:
    """A session as session.events.v1 tells it: open until its `closed` event."""

    station_id: str
    transaction_id: str
    id_token: str
    #: Closed rows are kept: a closed session never opens again, whatever arrives late.
    ended: bool = False
    updated_at: datetime | None = None
    #: The EVSE (1.6: connector) it runs on; 0 = not known.
    evse_id: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return (self.station_id, self.transaction_id)


@dataclass(frozen=True, slots=True)
class AuthorizeQuery:
    station_id: str
    id_token: str
    token_type: str = ""
    transaction_id: str = ""
    evse_id: int = 0
    purpose: str = "authorize"


@dataclass(frozen=True, slots=True)
class Decision:
    status: str
    reason: str
    expires_at: datetime | None = None
    group_id: str = ""
    #: The token's source ("local", "ocpi:<country>-<party>"); "" when no token was found.
    source: str = ""
    personal_message: str = ""
    language: str = ""
    #: Until when a station may answer from its cache (2.x cacheExpiryDateTime); None = the
    #: token's expiry.
    cache_expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    station_id: str
    id_token: str
    token_type: str
    purpose: str
    transaction_id: str
    status: str
    reason: str


@dataclass(frozen=True, slots=True)
class LocalEntry:
    """One line of a station's local list, as sent."""

    id_token: str
    type: str
    status: str
    expiry: datetime | None = None
    parent_id: str = ""

    @property
    def key(self) -> TokenKey:
        return (self.id_token, self.type)


@dataclass(frozen=True, slots=True)
class Scope:
    kind: str  # "station" or "site"
    id: str


@dataclass(frozen=True, slots=True)
class SyncRecord:
    station_id: str
    version: int = 0
    update_type: str = ""
    status: str = ""
    at: datetime | None = None
    acked_version: int = 0
    #: What the station confirmed holding; None = unknown (the next push is Full).
    acked_entries: dict[TokenKey, LocalEntry] | None = field(default=None, compare=False)
