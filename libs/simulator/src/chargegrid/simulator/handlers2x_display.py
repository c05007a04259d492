"""OCPP 2.x display messages (block O), station side: a store of messages by id.

SetDisplayMessage replaces a message with the same id (O01/O04), GetDisplayMessages answers
Unknown when nothing matches, else Accepted and sends the matches in NotifyDisplayMessages
(O03), ClearDisplayMessage answers Unknown for an id it does not hold (O05). The store lives
on the station, so messages outlive a reconnect as a real display's do.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from chargegrid.simulator.link import OfflineError
from chargegrid.simulator.messages2x import Outbound2x
from chargegrid.simulator.routing import on

#: What the simulated display can hold (DisplayMessageCtrlr.Available).
CAPACITY = 10
FORMATS = frozenset({"ASCII", "UTF8", "URI", "HTML"})


def _store(link: Outbound2x) -> dict[int, dict[str, Any]]:
    station: Any = link.station
    if not hasattr(station, "display_messages"):
        station.display_messages = {}
    messages: dict[int, dict[str, Any]] = station.display_messages
    return messages


class Display2x(Outbound2x):
    """SetDisplayMessage, GetDisplayMessages, ClearDisplayMessage."""

    @on("SetDisplayMessage")
    def on_set_display_message(self, message: dict[str, Any], **_: Any) -> Any:
        store = _store(self)
        if message["message"]["format"] not in FORMATS:
            return self._call_result.SetDisplayMessage(status="NotSupportedMessageFormat")
        if message["id"] not in store and len(store) >= CAPACITY:
            return self._call_result.SetDisplayMessage(status="Rejected")
        if message.get("transaction_id") and not self._running(message["transaction_id"]):
            return self._call_result.SetDisplayMessage(status="UnknownTransaction")
        store[message["id"]] = message
        return self._call_result.SetDisplayMessage(status="Accepted")

    def _running(self, transaction_id: str) -> bool:
        sessions = [c.session for c in self.station.connectors.values() if c.session]
        return any(s.transaction_id == transaction_id for s in sessions)

    @on("GetDisplayMessages")
    def on_get_display_messages(
        self,
        request_id: int,
        id: list[int] | None = None,
        priority: str | None = None,
        state: str | None = None,
        **_: Any,
    ) -> Any:
        found = [
            m
            for m in _store(self).values()
            if (not id or m["id"] in id)
            and (priority is None or m["priority"] == priority)
            and (state is None or m.get("state") == state)
        ]
        if not found:
            return self._call_result.GetDisplayMessages(status="Unknown")
        self.defer(partial(self._notify, request_id, found))
        return self._call_result.GetDisplayMessages(status="Accepted")

    async def _notify(self, request_id: int, found: list[dict[str, Any]]) -> None:
        try:
            await self.request(
                self._call.NotifyDisplayMessages(request_id=request_id, message_info=found)
            )
        except OfflineError:
            self.station.note(f"display messages {request_id} lost: connection dropped")

    @on("ClearDisplayMessage")
    def on_clear_display_message(self, id: int, **_: Any) -> Any:
        if _store(self).pop(id, None) is None:
            return self._call_result.ClearDisplayMessage(status="Unknown")
        return self._call_result.ClearDisplayMessage(status="Accepted")
