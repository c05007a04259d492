"""The OCPI response envelope: data, status_code, status_message, timestamp (UTC, 'Z')."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chargegrid.roaming.ocpi.status import Status


def ocpi_time(when: datetime) -> str:
    """OCPI DateTime: RFC 3339 in UTC with a 'Z' and no fractions beyond milliseconds."""
    moment = when.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def parse_ocpi_time(text: str, field: str = "time") -> datetime:
    """An OCPI DateTime ('Z', an offset, or none = UTC as 2.2.1 requires); ValueError if not."""
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{field}: {text!r} is not an RFC 3339 date-time") from None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def envelope(
    data: Any = None,
    *,
    status: Status = Status.SUCCESS,
    message: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status_code": int(status),
        "timestamp": ocpi_time(now or datetime.now(UTC)),
    }
    if data is not None:
        body["data"] = data
    if message:
        body["status_message"] = message
    elif status == Status.SUCCESS:
        body["status_message"] = "Success"
    return body
