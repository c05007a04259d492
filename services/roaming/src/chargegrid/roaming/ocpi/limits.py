"""A ceiling on request bodies: what partners send us (tokens, commands, credentials,
charging preferences) is small, so a body above `max_bytes` is refused with HTTP 413 and
OCPI 2001 before any of it is parsed or stored, whether it declares its length or not.
Runs inside the headers middleware, so a refusal carries the request ids too."""

from __future__ import annotations

from typing import Any

import orjson

from chargegrid.roaming.ocpi.envelope import envelope
from chargegrid.roaming.ocpi.status import OcpiError, Status


def too_large(max_bytes: int) -> OcpiError:
    return OcpiError(Status.INVALID_PARAMETERS, f"request body above {max_bytes} bytes", 413)


class BodyLimit:
    """ASGI middleware: a declared Content-Length above the limit is answered at once; a
    body without one is read first (at most `max_bytes` are held) and handed on whole."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isdigit():
            if int(declared) > self.max_bytes:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        chunks, size, message = [], 0, {"more_body": True}
        while message.get("more_body", False):
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)  # the client went away: let it fail
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                await self._refuse(send)
                return
        replayed = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        delivered = False

        async def replay() -> Any:
            nonlocal delivered
            if delivered:
                return await receive()  # disconnect, as the server tells it
            delivered = True
            return replayed

        await self.app(scope, replay, send)

    async def _refuse(self, send: Any) -> None:
        error = too_large(self.max_bytes)
        body = orjson.dumps(envelope(status=error.status, message=error.message))
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})
