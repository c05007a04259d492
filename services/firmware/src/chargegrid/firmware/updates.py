"""What the API and the campaign runner share: their dependencies and sending one update.

The update row is committed before the command goes out, so a status the station reports at
once finds it; the command's answer then moves it to IN_PROGRESS or FAILED (offline,
rejected, or the station's refusal status).
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from chargegrid.firmware.charging import ChargingSessions, GrpcChargingSessions
from chargegrid.firmware.gateway import (
    CommandRefused,
    FirmwareCommands,
    FirmwareOrder,
    StationUnreachable,
)
from chargegrid.firmware.models import ImageRow, StationUpdateRow
from chargegrid.firmware.stations import GrpcStationDirectory, StationDirectory
from chargegrid.firmware.status import State
from chargegrid.platform.logging import get_logger

ACCEPTED = frozenset({"Accepted", "AcceptedCanceled"})

log = get_logger(__name__)
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


_SEQUENCE = itertools.count()


def new_id() -> str:
    """Time-ordered (milliseconds, then a per-process sequence, then random), so listing by
    id lists oldest first, and the stations of a campaign created in one millisecond keep the
    operator's order (the first ones go first: canaries)."""
    sequence = next(_SEQUENCE) % 0x10000
    return f"{time.time_ns() // 1_000_000:012x}{sequence:04x}{secrets.token_hex(4)}"


def new_request_id() -> int:
    return secrets.randbelow(2**31 - 2) + 1


@dataclass
class ApiDeps:
    sessions: async_sessionmaker[AsyncSession]
    commands: FirmwareCommands
    #: This service's public HTTP base URL (known once the HTTP server listens).
    base_url: Callable[[], str]
    clock: Clock = utc_now
    new_id: Callable[[], str] = new_id
    new_request_id: Callable[[], int] = new_request_id
    transfer_retries: int = 3
    transfer_retry_interval_s: int = 60
    #: Without a stations service selections are UNAVAILABLE and every station is in UTC.
    stations: StationDirectory = field(default_factory=lambda: GrpcStationDirectory(None))
    #: Without a session service no station is ever in a session.
    charging: ChargingSessions = field(default_factory=lambda: GrpcChargingSessions(None))
    #: Silence after which an update fails "timed out" (campaigns may set their own).
    station_timeout_s: int = 3600


#: Reads and writes of an answer when a status report keeps landing in between.
STORE_ATTEMPTS = 5


async def send_update(
    deps: ApiDeps, row: StationUpdateRow, image: ImageRow | None, install_at: datetime | None
) -> StationUpdateRow:
    """Send the (committed, IN_PROGRESS) update `row` and store the station's answer."""
    order = FirmwareOrder(
        location=row.location,
        request_id=row.request_id,
        retries=deps.transfer_retries,
        retry_interval_s=deps.transfer_retry_interval_s,
        retrieve_at=deps.clock(),
        install_at=install_at,
        signing_certificate=image.signing_certificate if image is not None else "",
        signature=image.signature if image is not None else "",
    )
    try:
        answer = await deps.commands.update_firmware(row.station_id, order)
    except StationUnreachable:
        state, detail = State.FAILED, "offline"
    except CommandRefused:
        state, detail = State.FAILED, "rejected"
    else:
        if answer in ACCEPTED:
            state, detail = State.IN_PROGRESS, answer
        else:
            state, detail = State.FAILED, "rejected" if answer == "Rejected" else answer
    stored = await _store_answer(deps, row.id, state, detail)
    log.info(
        "firmware update sent",
        station_id=stored.station_id,
        request_id=stored.request_id,
        campaign_id=stored.campaign_id,
        state=stored.state,
        detail=stored.detail,
    )
    return stored


async def _store_answer(
    deps: ApiDeps, update_id: str, state: State, detail: str
) -> StationUpdateRow:
    """Store the command's answer unless the station reported a status meanwhile.

    The station's status reports are written by the consumer at the same time: when one lands
    between our read and our write (the row's version moved), read again and decide again,
    rather than fail the campaign tick and leave the other stations of the turn unsent.
    """
    for attempt in range(STORE_ATTEMPTS):
        try:
            async with deps.sessions() as session, session.begin():
                stored = await session.get(StationUpdateRow, update_id)
                assert stored is not None
                # A status the station reported meanwhile is newer than the command's answer.
                if stored.detail == "" or state is State.FAILED:
                    stored.state, stored.detail = state.value, detail
                    stored.updated_at = deps.clock()
            return stored
        except StaleDataError:
            if attempt == STORE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
