"""Concurrent calls served together: one database round trip for all that are waiting.

In a boot storm thousands of stations ask at once (their security profile at the
handshake, their boot decision): one transaction each would queue on the database (SQLite
has one writer) and miss the gateway's deadline. `Coalescer` lets the calls that arrive
while a batch is being served wait for the next one, which serves them all in one call of
`run`; alone, a call is served at once. A batch that fails is served again one call at a
time, so a bad request fails only itself. A caller that gave up is left out of the next
batch (its work may still be done if its batch had started).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


class Coalescer(Generic[In, Out]):
    def __init__(
        self, run: Callable[[Sequence[In]], Awaitable[Sequence[Out]]], max_batch: int = 500
    ) -> None:
        self.run = run
        self.max_batch = max_batch
        self._waiting: list[tuple[In, asyncio.Future[Out]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def __call__(self, item: In) -> Out:
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._serve())
        return await future

    async def _serve(self) -> None:
        while self._waiting:
            batch = [(i, f) for i, f in self._waiting[: self.max_batch] if not f.done()]
            del self._waiting[: self.max_batch]
            if batch:
                await self._serve_batch(batch)

    async def _serve_batch(self, batch: list[tuple[In, asyncio.Future[Out]]]) -> None:
        try:
            results = await self.run([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} results for {len(batch)} calls")
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc)
                return
            for one in batch:
                await self._serve_batch([one])
            return
        for (_, future), result in zip(batch, results, strict=False):
            _settle(future, result)


def _settle(future: asyncio.Future[Out], outcome: Out | Exception) -> None:
    if future.done():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
