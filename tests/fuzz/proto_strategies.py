"""Hypothesis strategies for request messages of any of our gRPC methods, from descriptors.

Every field may be left unset or get a hostile value: strings empty, huge, in any script or
shaped like injections and paths; integers at the edges of their type; doubles NaN and
infinite; enum values outside the enum (proto3 enums are open); timestamps outside the
years 1-9999; nested messages a few levels deep.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

F = FieldDescriptor
TEXT = st.characters(exclude_categories=["Cs"])
STRINGS = st.one_of(
    st.text(TEXT, max_size=40),
    st.sampled_from(
        ["", " ", "\x00", "-1", "9" * 30, "../../etc/passwd", "' OR 1=1 --", "ü" * 300]
    ),
    st.integers(1_000, 100_000).map(lambda n: "x" * n),
)
_INT_RANGES = {
    F.CPPTYPE_INT32: (-(2**31), 2**31 - 1),
    F.CPPTYPE_INT64: (-(2**63), 2**63 - 1),
    F.CPPTYPE_UINT32: (0, 2**32 - 1),
    F.CPPTYPE_UINT64: (0, 2**64 - 1),
}


def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    edges = [low, high, 0, -1, 1, 2**31 - 1, 253_402_300_800, -62_135_596_801]
    return st.one_of(
        st.sampled_from([e for e in edges if low <= e <= high]), st.integers(low, high)
    )


def _scalar(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    kind = field.cpp_type
    if kind in _INT_RANGES:
        return _integers(*_INT_RANGES[kind])
    if kind in (F.CPPTYPE_DOUBLE, F.CPPTYPE_FLOAT):
        return st.one_of(
            st.sampled_from([0.0, -1.0, 1e308, -1e308, float("nan"), float("inf"), float("-inf")]),
            st.floats(width=64 if kind == F.CPPTYPE_DOUBLE else 32),
        )
    if kind == F.CPPTYPE_BOOL:
        return st.booleans()
    if kind == F.CPPTYPE_STRING:
        return STRINGS if field.type == F.TYPE_STRING else st.binary(max_size=300)
    if kind == F.CPPTYPE_ENUM:
        assert field.enum_type is not None
        known = sorted(field.enum_type.values_by_number)
        return st.one_of(st.sampled_from(known), st.integers(-3, known[-1] + 1_000))
    return messages(field.message_type, depth + 1)


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


@st.composite
def _message(draw: st.DrawFn, descriptor: Descriptor, depth: int) -> Message:
    message = GetMessageClass(descriptor)()
    for field in descriptor.fields:
        nested = field.cpp_type == F.CPPTYPE_MESSAGE
        if (nested and depth >= 3) or not draw(st.booleans()):
            continue
        if _is_map(field):
            assert field.message_type is not None
            key, value = (
                field.message_type.fields_by_name["key"],
                field.message_type.fields_by_name["value"],
            )
            entries = draw(st.dictionaries(_scalar(key, depth), _scalar(value, depth), max_size=3))
            target = getattr(message, field.name)
            for k, v in entries.items():
                if value.cpp_type == F.CPPTYPE_MESSAGE:
                    target[k].CopyFrom(v)
                else:
                    target[k] = v
        elif field.is_repeated:
            values = draw(st.lists(_scalar(field, depth), max_size=3))
            getattr(message, field.name).extend(values)
        elif nested:
            getattr(message, field.name).CopyFrom(draw(_scalar(field, depth)))
        else:
            setattr(message, field.name, draw(_scalar(field, depth)))
    return message


def messages(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    """Messages of type `descriptor` with any, or hostile, field values."""
    return _message(descriptor, depth)
