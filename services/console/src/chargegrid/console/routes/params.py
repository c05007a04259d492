"""Query parameters shared by many routes: paging, enum names, time ranges."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

from chargegrid.console.problems import Problem

#: Proto int32 fields: a larger query value is a 422, not an overflow (found by the fuzz).
INT32_MAX = 2**31 - 1

PageSize = Annotated[int, Query(ge=1, le=500, description="Items per page (1-500).")]
PageToken = Annotated[
    str | None, Query(max_length=512, description="`next_page_token` of the previous page.")
]
Since = Annotated[datetime | None, Query(description="RFC 3339; only items from then on.")]
Until = Annotated[datetime | None, Query(description="RFC 3339; only items before then.")]


def enum_name(enum: Any, prefix: str, text: str | None, field: str) -> str | None:
    """The proto enum name for `text`, given as `Faulted`, `faulted`, `FAULTED` or in full.

    `SUSPENDED_EV`, `SuspendedEV` and `suspended-ev` are all accepted.
    """
    if not text:
        return None
    wanted = text.replace("-", "").replace("_", "").upper()
    for name in enum.keys():  # noqa: SIM118 (a proto enum wrapper, not a dict)
        short = name.removeprefix(prefix)
        if wanted in (short.replace("_", ""), name.replace("_", "")):
            return str(name)
    choices = ", ".join(
        n.removeprefix(prefix)
        for n in enum.keys()  # noqa: SIM118
        if not n.endswith("UNSPECIFIED")
    )
    raise Problem(422, f"{field}: unknown value {text!r} (one of {choices})")


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise Problem(422, f"time {value.isoformat()} needs a UTC offset (e.g. Z)")
    return value.isoformat()


def page(page_size: int, page_token: str | None) -> dict[str, Any]:
    return {"page_size": page_size, "page_token": page_token}
