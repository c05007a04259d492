"""Find a google.protobuf.Timestamp in a request that is no valid Timestamp.

The Timestamp spec allows 0001-01-01 to 9999-12-31 and nanos 0-999,999,999, but the wire
carries any int64: a request with `seconds: -2**63` decoded fine and then failed in
`ToDatetime` deep in a servicer as INTERNAL (found by tests/fuzz). Requests are checked once
when they are decoded; message types that cannot hold a Timestamp are skipped, from a
per-type answer computed once.
"""

from __future__ import annotations

from functools import cache

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

TIMESTAMP = "google.protobuf.Timestamp"
MIN_SECONDS = -62_135_596_800  # 0001-01-01T00:00:00Z
MAX_SECONDS = 253_402_300_799  # 9999-12-31T23:59:59Z
MAX_NANOS = 999_999_999


@cache
def _may_hold_timestamp(descriptor: Descriptor) -> bool:
    seen: set[str] = set()
    pending = [descriptor]
    while pending:
        current = pending.pop()
        if current.full_name == TIMESTAMP:
            return True
        if current.full_name in seen:
            continue
        seen.add(current.full_name)
        pending += [f.message_type for f in current.fields if f.message_type is not None]
    return False


def _valid(stamp: Message) -> bool:
    seconds: int = getattr(stamp, "seconds")  # noqa: B009 - any Message, typed as such
    nanos: int = getattr(stamp, "nanos")  # noqa: B009
    return MIN_SECONDS <= seconds <= MAX_SECONDS and 0 <= nanos <= MAX_NANOS


def invalid_timestamp(message: Message, path: str = "") -> str | None:
    """The dotted name of the first invalid Timestamp in `message`, or None."""
    descriptor = message.DESCRIPTOR
    if not _may_hold_timestamp(descriptor):
        return None
    if descriptor.full_name == TIMESTAMP:
        return None if _valid(message) else (path or "request")
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        name = f"{path}.{field.name}" if path else field.name
        if field.message_type.GetOptions().map_entry:
            values = list(value.values()) if _map_of_messages(field) else []
        else:
            values = list(value) if field.is_repeated else [value]
        for item in values:
            found = invalid_timestamp(item, name)
            if found is not None:
                return found
    return None


def _map_of_messages(field: FieldDescriptor) -> bool:
    entry = field.message_type
    return entry is not None and entry.fields_by_name["value"].message_type is not None
