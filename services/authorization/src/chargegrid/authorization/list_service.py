"""Local-list membership commands: add and remove tokens, read a list, push, report syncs."""

from __future__ import annotations

from collections.abc import Sequence

from chargegrid.authorization.domain import Clock, Scope, SyncRecord, Token, TokenKey
from chargegrid.authorization.local_list_store import LocalListStore
from chargegrid.authorization.local_lists import LocalLists
from chargegrid.authorization.store import TokenStore
from chargegrid.platform.grpc import FailedPrecondition, NotFound


class ListService:
    def __init__(
        self, tokens: TokenStore, store: LocalListStore, local_lists: LocalLists, clock: Clock
    ) -> None:
        self.tokens = tokens
        self.store = store
        self.local_lists = local_lists
        self.clock = clock

    async def _existing(self, keys: Sequence[TokenKey]) -> None:
        async with self.tokens.sessions() as session:
            stored = await self.tokens.existing(session, keys)
        missing = [k for k in keys if k not in stored or stored[k].deleted]
        if missing:
            named = ", ".join(f"{i} ({t})" for i, t in missing[:10])
            raise NotFound(f"no such token(s): {named}")

    async def change(
        self, scope: Scope, add: Sequence[TokenKey] = (), remove: Sequence[TokenKey] = ()
    ) -> tuple[int, list[Token]]:
        await self._existing([*add, *remove])
        if await self.store.change(scope, add, remove, self.clock()):
            self.local_lists.scopes_changed([scope])
        return await self.get(scope)

    async def get(self, scope: Scope) -> tuple[int, list[Token]]:
        version, keys = await self.store.members(scope)
        found = []
        async with self.tokens.sessions() as session:
            stored = await self.tokens.existing(session, keys)
        for key in keys:
            token = stored.get(key)
            if token is not None and not token.deleted:
                found.append(token)
        return version, found

    async def sync(self, station_id: str, full: bool) -> SyncRecord:
        if not self.local_lists.gateway.configured:
            raise FailedPrecondition("no gateway configured (CHARGEGRID_GATEWAY_ADDRESS)")
        return await self.local_lists.push(station_id, full=full)

    async def syncs(self, scope: Scope) -> list[SyncRecord]:
        if scope.kind == "station":
            stations = [scope.id]
        else:
            stations = await self.local_lists.sites.stations_of(scope.id)
        return await self.store.syncs(stations)
