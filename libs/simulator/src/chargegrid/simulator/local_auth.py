"""The local authorization list and the authorization cache.

Stations keep both so drivers can start offline and so a CSMS can manage who may charge;
versioning and differential updates are where CSMS implementations most often go wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ListUpdateResult(StrEnum):
    ACCEPTED = "Accepted"
    VERSION_MISMATCH = "VersionMismatch"
    FAILED = "Failed"


@dataclass(frozen=True)
class AuthEntry:
    """One identifier and what the CSMS said about it (None status deletes in a diff)."""

    id_tag: str
    status: str | None
    expires_at: datetime | None = None


class LocalAuthList:
    """A versioned list of identifiers, replaced in full or patched by differences."""

    def __init__(self, max_length: int = 1_000) -> None:
        self.version = 0
        self.max_length = max_length
        self._entries: dict[str, AuthEntry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def update(self, version: int, *, full: bool, entries: list[AuthEntry]) -> ListUpdateResult:
        """Apply SendLocalList; a differential update must raise the version."""
        if not full and version <= self.version:
            return ListUpdateResult.VERSION_MISMATCH
        target = {} if full else dict(self._entries)
        for entry in entries:
            key = entry.id_tag.lower()
            if entry.status is None:
                target.pop(key, None)
            else:
                target[key] = entry
        if len(target) > self.max_length:
            return ListUpdateResult.FAILED
        self._entries = target
        self.version = version
        return ListUpdateResult.ACCEPTED

    def status_of(self, id_tag: str, now: datetime) -> str | None:
        """The listed status (Expired once past its expiry), or None when not listed."""
        entry = self._entries.get(id_tag.lower())
        if entry is None:
            return None
        if entry.expires_at is not None and entry.expires_at <= now:
            return "Expired"
        return entry.status


class AuthCache:
    """The answers the CSMS gave to Authorize, kept until ClearCache or until the
    cacheExpiryDateTime the CSMS gave (2.x C10): an expired entry is dropped, so the
    station asks again."""

    def __init__(self) -> None:
        self._statuses: dict[str, tuple[str, datetime | None]] = {}

    def remember(self, id_tag: str, status: str, until: datetime | None = None) -> None:
        self._statuses[id_tag.lower()] = (status, until)

    def status_of(self, id_tag: str, now: datetime | None = None) -> str | None:
        entry = self._statuses.get(id_tag.lower())
        if entry is None:
            return None
        status, until = entry
        if until is not None and now is not None and until <= now:
            del self._statuses[id_tag.lower()]
            return None
        return status

    def clear(self) -> None:
        self._statuses.clear()
