"""The routing header every event carries, so consumers can skip events before decoding them.

A consumer that cares about a few event types of a busy topic would otherwise parse and
trace every envelope only to drop most of them. Producers put the envelope's type in the
`event-type` header; consumers read it and decode only what they want. Records written
before the header existed (or by other producers) have none and are decoded as before.
"""

from __future__ import annotations

from collections.abc import Sequence

EVENT_TYPE_HEADER = "event-type"


def event_type_header(event_type: str) -> tuple[str, bytes]:
    return (EVENT_TYPE_HEADER, event_type.encode())


def header_event_type(headers: Sequence[tuple[str, bytes]] | None) -> str | None:
    """The event type a record's headers name, or None when they do not name one."""
    for key, value in headers or ():
        if key == EVENT_TYPE_HEADER:
            return value.decode(errors="replace")
    return None
