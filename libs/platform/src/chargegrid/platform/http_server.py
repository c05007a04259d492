"""uvicorn inside a service's own event loop, started and stopped by its composition root.

Three services serve HTTP beside gRPC (firmware uploads, roaming's OCPI, the console). Each
runs uvicorn in its asyncio loop rather than as the process's main program, so one SIGTERM
handler stops gRPC, consumers and HTTP in order; uvicorn therefore must not take the signals.
No access log: URLs can carry one-time upload ids and stream tickets.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Generator
from typing import Any

import uvicorn


class _EmbeddedServer(uvicorn.Server):
    """uvicorn that leaves signals to the service, which stops it itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class HttpServer:
    """An ASGI app on `host:port` (0 = any free port; `start` returns the one bound)."""

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        *,
        name: str = "HTTP",
        graceful_shutdown_s: int | None = None,
    ) -> None:
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            lifespan="off",
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=graceful_shutdown_s,
        )
        self.server = _EmbeddedServer(config)
        self.name = name
        self.port = port
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> int:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self._task.done():
                self._task.result()  # raises why it could not start
                raise RuntimeError(f"the {self.name} server stopped while starting")
            await asyncio.sleep(0.01)
        sockets = [sock for server in self.server.servers for sock in server.sockets]
        self.port = int(sockets[0].getsockname()[1])
        return self.port

    async def stop(self, timeout_s: float | None = None) -> None:
        if self._task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self._task, timeout_s)
        self._task = None
