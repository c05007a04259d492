"""What routes get from the application: the backends and the live mirror.

Every dependency and every route that does not block is `async def`: FastAPI runs a plain
`def` in its thread pool, and on a busy machine each hop to a worker thread and back cost
more than the whole answer (a trivial route took ~65 ms p50 with three hops, loaded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from chargegrid.console.backends import Backends

if TYPE_CHECKING:
    from chargegrid.console.live import LiveMirror


async def backends(request: Request) -> Backends:
    found: Backends = request.app.state.backends
    return found


async def live(request: Request) -> LiveMirror:
    found: LiveMirror = request.app.state.live
    return found
