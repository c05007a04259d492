"""The decision engine: every token and transaction in progress, in memory, decided in O(1).

Authorize is on the path of a driver waiting at a charger, so it never touches the database:
the engine is loaded at start and then kept current by the replica's own writes (applied at
once) and by polling for other replicas' writes. Changes are applied only when they are not
older than what the engine already holds, so a slow poll never undoes a newer local write.

Transactions in progress are the session service's open sessions (session.events.v1), so
a session the station lost and the session service closed frees its card here too. A card
holds at most its `max_concurrent_transactions` (else its group's, else one); a start on an
EVSE never counts the session it replaces there (the station lost it; session closes it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from chargegrid.authorization.domain import (
    DEFAULT_MAX_CONCURRENT,
    UNTYPED,
    ActiveTransaction,
    AuthorizeQuery,
    Decision,
    Token,
    TokenKey,
    canonical_type,
)

#: A 1.6 idTag that exists under several types resolves to the first of these.
_UNTYPED_PREFERENCE = ("ISO14443", "ISO15693", "Central", "Local", "KeyCode", "eMAID")


class DecisionEngine:
    def __init__(self) -> None:
        self._by_id: dict[str, dict[str, Token]] = {}
        #: Keys deleted here, with when: a stale poll must not bring them back.
        self._deleted: dict[TokenKey, datetime] = {}
        self._tx_token: dict[tuple[str, str], str] = {}
        self._tx_stamp: dict[tuple[str, str], datetime] = {}
        #: id token -> its open transactions -> the EVSE each runs on (0 = unknown).
        self._active: dict[str, dict[tuple[str, str], int]] = {}

    # --- state -------------------------------------------------------------------------------
    def load(self, tokens: Iterable[Token], transactions: Iterable[ActiveTransaction]) -> None:
        for token in tokens:
            self.apply_token(token)
        for tx in transactions:
            self.apply_transaction(tx)

    def __len__(self) -> int:
        return sum(len(types) for types in self._by_id.values())

    def apply_token(self, token: Token) -> bool:
        """Take a token row as written; False if what is held is newer."""
        held = self.get(token.key)
        stamp = token.updated_at
        if stamp is not None:
            newest = held.updated_at if held else self._deleted.get(token.key)
            if newest is not None and stamp < newest:
                return False
        if token.deleted:
            types = self._by_id.get(token.id_token, {})
            types.pop(token.type, None)
            if not types:
                self._by_id.pop(token.id_token, None)
            if stamp is not None:
                self._deleted[token.key] = stamp
            return True
        self._deleted.pop(token.key, None)
        self._by_id.setdefault(token.id_token, {})[token.type] = token
        return True

    def apply_transaction(self, tx: ActiveTransaction) -> bool:
        key = tx.key
        held = self._tx_stamp.get(key)
        if held is not None and tx.updated_at is not None and tx.updated_at < held:
            return False
        if tx.updated_at is not None:
            self._tx_stamp[key] = tx.updated_at
        previous = self._tx_token.pop(key, None)
        if previous is not None:
            holders = self._active.get(previous)
            if holders is not None:
                holders.pop(key, None)
                if not holders:
                    del self._active[previous]
        if tx.ended:
            return True
        self._tx_token[key] = tx.id_token
        if tx.id_token:
            self._active.setdefault(tx.id_token, {})[key] = tx.evse_id
        return True

    # --- lookups -----------------------------------------------------------------------------
    def get(self, key: TokenKey) -> Token | None:
        types = self._by_id.get(key[0])
        return types.get(key[1]) if types else None

    def find(self, id_token: str, token_type: str = "") -> Token | None:
        """The token a station presented: by id and type, or by id alone for 1.6 idTags."""
        types = self._by_id.get(id_token)
        if not types:
            return None
        if token_type not in UNTYPED:
            kind = canonical_type(token_type)
            return types.get(kind) if kind else None
        for kind in _UNTYPED_PREFERENCE:
            if kind in types:
                return types[kind]
        return next(iter(types.values()))

    def transactions_of(self, id_token: str) -> set[tuple[str, str]]:
        return set(self._active.get(id_token, ()))

    def is_active(self, station_id: str, transaction_id: str) -> bool:
        return (station_id, transaction_id) in self._tx_token

    # --- the decision ------------------------------------------------------------------------
    def decide(
        self, query: AuthorizeQuery, token: Token, site_id: str | None, now: datetime
    ) -> Decision:
        """The answer for a known token; `site_id` is the station's site (None = unknown)."""

        def answer(status: str, reason: str) -> Decision:
            return Decision(
                status,
                reason,
                token.expires_at,
                token.group_id,
                token.source,
                token.personal_message,
                token.language,
            )

        if token.status != "Accepted":
            return answer(token.status, token.status.lower())
        if token.expired(now):
            return answer("Expired", "expired")
        group = self.find(token.group_id) if token.group_id else None
        if group is not None and group.key != token.key:
            if group.status == "Blocked":
                return answer("Blocked", "group_blocked")
            if group.expired(now):
                return answer("Blocked", "group_expired")
        if token.allowed_site_ids and (site_id is None or site_id not in token.allowed_site_ids):
            return answer("NotAtThisLocation", "not_at_site" if site_id else "site_unknown")
        if query.purpose in ("authorize", "start", "") and self._at_limit(query, token, group):
            return answer("ConcurrentTx", "concurrent")
        return answer("Accepted", "accepted")

    @staticmethod
    def limit_of(token: Token, group: Token | None) -> int:
        """How many transactions the card may hold at once."""
        if token.max_concurrent_transactions:
            return token.max_concurrent_transactions
        if group is not None and group.max_concurrent_transactions:
            return group.max_concurrent_transactions
        return DEFAULT_MAX_CONCURRENT

    def _at_limit(self, query: AuthorizeQuery, token: Token, group: Token | None) -> bool:
        holders = self._active.get(token.id_token)
        if not holders:
            return False
        this = (query.station_id, query.transaction_id)
        others = sum(
            1
            for key, evse in holders.items()
            if key != this
            and not (query.evse_id and key[0] == query.station_id and evse == query.evse_id)
        )
        return others >= self.limit_of(token, group if group and group.key != token.key else None)
