"""Token commands: create, replace, delete, bulk import, and the reads that go with them.

Each write commits the token rows together with the version bump of every local list the
token is on, then applies the change to this replica's engine at once (other replicas poll
for it) and queues differential pushes to the stations those lists reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from chargegrid.authorization.domain import Clock, Token, TokenKey
from chargegrid.authorization.engine import DecisionEngine
from chargegrid.authorization.local_list_store import LocalListStore
from chargegrid.authorization.local_lists import LocalLists
from chargegrid.authorization.store import TokenFilter, TokenStore
from chargegrid.platform.grpc import AlreadyExists, InvalidArgument, NotFound


def _affects_lists(new: Token, old: Token) -> bool:
    """Whether a local-list entry of the token (status, expiry, parent) would change."""
    return (new.status, new.expires_at, new.group_id) != (old.status, old.expires_at, old.group_id)


class TokenService:
    def __init__(
        self,
        store: TokenStore,
        lists: LocalListStore,
        engine: DecisionEngine,
        local_lists: LocalLists,
        clock: Clock,
    ) -> None:
        self.store = store
        self.lists = lists
        self.engine = engine
        self.local_lists = local_lists
        self.clock = clock

    async def resolve(self, id_token: str, kind: str | None) -> TokenKey:
        """The key of a token named by id and, if given, type; without a type the id must be
        unambiguous."""
        if kind:
            return (id_token, kind)
        found = await self.store.by_id(id_token)
        if not found:
            raise NotFound(f"no token {id_token!r}")
        if len(found) > 1:
            kinds = ", ".join(sorted(t.type for t in found))
            raise InvalidArgument(f"token {id_token!r} exists as {kinds}: give its type")
        return found[0].key

    async def get(self, key: TokenKey) -> Token:
        found = await self.store.get(key)
        if found is None:
            raise NotFound(f"no token {key[0]!r} of type {key[1]}")
        return found

    async def create(self, token: Token) -> Token:
        now = self.clock()
        async with self.store.sessions() as session, session.begin():
            previous = (await self.store.existing(session, [token.key])).get(token.key)
            if previous is not None and not previous.deleted:
                raise AlreadyExists(f"token {token.id_token!r} of type {token.type} exists")
            new = replace(
                token,
                status=token.status or "Accepted",
                created_at=now,
                updated_at=now,
                deleted=False,
            )
            await self.store.write(session, [(new, previous)])
        self.engine.apply_token(new)
        return new

    async def update(self, token: Token) -> Token:
        """Replace the token's fields; an empty status keeps the stored one."""
        now = self.clock()
        async with self.store.sessions() as session, session.begin():
            previous = (await self.store.existing(session, [token.key])).get(token.key)
            if previous is None or previous.deleted:
                raise NotFound(f"no token {token.id_token!r} of type {token.type}")
            new = replace(
                token,
                status=token.status or previous.status,
                created_at=previous.created_at,
                updated_at=now,
                deleted=False,
            )
            if new.same_content(previous):
                return previous
            await self.store.write(session, [(new, previous)])
            scopes = (
                await self.lists.tokens_changed(session, [new.key], now)
                if _affects_lists(new, previous)
                else []
            )
        self.engine.apply_token(new)
        self.local_lists.scopes_changed(scopes)
        return new

    async def delete(self, key: TokenKey) -> None:
        now = self.clock()
        async with self.store.sessions() as session, session.begin():
            previous = (await self.store.existing(session, [key])).get(key)
            if previous is None or previous.deleted:
                raise NotFound(f"no token {key[0]!r} of type {key[1]}")
            gone = replace(previous, deleted=True, updated_at=now)
            await self.store.write(session, [(gone, previous)])
            scopes = await self.lists.tokens_changed(session, [key], now, drop=True)
        self.engine.apply_token(gone)
        self.local_lists.scopes_changed(scopes)

    async def import_tokens(self, items: Sequence[Token]) -> tuple[int, int]:
        """Create or replace every token in one database transaction: all or nothing."""
        now = self.clock()
        keys = [t.key for t in items]
        if len(set(keys)) != len(keys):
            raise InvalidArgument("the import names a token (id and type) more than once")
        written: list[Token] = []
        async with self.store.sessions() as session, session.begin():
            stored = await self.store.existing(session, keys)
            pairs, changed_keys, created = [], [], 0
            for token in items:
                previous = stored.get(token.key)
                live = previous is not None and not previous.deleted
                new = replace(
                    token,
                    status=token.status or "Accepted",
                    created_at=previous.created_at if live and previous else now,
                    updated_at=now,
                    deleted=False,
                )
                created += 0 if live else 1
                if live and previous and _affects_lists(new, previous):
                    changed_keys.append(new.key)
                pairs.append((new, previous))
                written.append(new)
            await self.store.write(session, pairs)
            scopes = await self.lists.tokens_changed(session, changed_keys, now)
        for new in written:
            self.engine.apply_token(new)
        self.local_lists.scopes_changed(scopes)
        return created, len(items) - created

    async def list(
        self, where: TokenFilter, page_size: int, page_token: str
    ) -> tuple[list[Token], str, int]:
        return await self.store.list(where, page_size, page_token)
