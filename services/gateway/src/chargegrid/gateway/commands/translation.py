"""The contract between StationControl and the per-version translators.

For every typed RPC (by its method name, e.g. "Reset") a version's translator gives:
- `request(method, message) -> (action, payload)`: the OCPP CALL to send, or raises
  `Unsupported` when the version has no such command (e.g. 1.6 has no GetLog outside the
  security extension) and `InvalidCommand` for requests that make no sense (missing ids);
- `reply(method, message, payload) -> reply message`: the typed reply built from the
  station's CALLRESULT payload.
"""

from __future__ import annotations

from typing import Any, Protocol

from google.protobuf.message import Message


class Unsupported(Exception):
    """The station's OCPP version has no equivalent of this command."""


class InvalidCommand(ValueError):
    """The request is incomplete or contradictory; nothing was sent."""


class Translator(Protocol):
    def request(self, method: str, message: Message) -> tuple[str, dict[str, Any]]: ...

    def reply(self, method: str, message: Message, payload: dict[str, Any]) -> Message: ...
