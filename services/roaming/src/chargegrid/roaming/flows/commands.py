"""OCPI commands -> the gateway's StationControl, and the CommandResult to the response_url.

The CommandResponse is answered at once (ACCEPTED with our timeout, or why not); the command
is stored, the station is asked in the background and its answer (or TIMEOUT after
`timeout_s`, FAILED when it cannot be reached) goes through the outbox to the partner's
response_url (retried with backoff, delivered after a restart). A command whose process
stopped before the station answered is answered TIMEOUT by `recover`. A START_SESSION's token
is kept as the partner's, so the session it starts is theirs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import grpc
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.gateway.v1 import station_control_pb2 as gw
from chargegrid.api.gateway.v1.station_control_pb2_grpc import StationControlStub
from chargegrid.platform.logging import get_logger
from chargegrid.roaming.clock import Clock
from chargegrid.roaming.flows.command_rows import ANSWERED, PENDING, CommandRow
from chargegrid.roaming.outbox import Outbox
from chargegrid.roaming.partners import Partner

log = get_logger(__name__)

#: The station's OCPP status -> OCPI CommandResultType.
RESULTS = {
    "accepted": "ACCEPTED",
    "unlocked": "ACCEPTED",
    "rejected": "REJECTED",
    "unlockfailed": "FAILED",
    "ongoingauthorizedtransaction": "FAILED",
    "unknownconnector": "FAILED",
    "occupied": "EVSE_OCCUPIED",
    "faulted": "EVSE_INOPERATIVE",
    "unavailable": "EVSE_INOPERATIVE",
    "notsupported": "NOT_SUPPORTED",
}


@dataclass(frozen=True)
class StationCall:
    """One StationControl call a command becomes."""

    method: str  # StartCharging, StopCharging, ReserveNow, CancelReservation, UnlockConnector
    request: Any


def result_of(status: str) -> str:
    return RESULTS.get(status.lower().replace("_", ""), "FAILED")


class CommandRunner:
    """Asks stations in the background; every accepted command is a row until its result is
    in the outbox, which delivers it (retried, kept across restarts)."""

    def __init__(
        self,
        channel: grpc.aio.Channel | None,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Outbox,
        clock: Clock,
        timeout_s: float = 30.0,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._stub = StationControlStub(channel) if channel is not None else None
        self.sessions = sessions
        self.outbox = outbox
        self.clock = clock
        self.timeout_s = timeout_s
        self.new_id = new_id
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def available(self) -> bool:
        return self._stub is not None

    def record(
        self, session: AsyncSession, partner: Partner, command: str, call: StationCall,
        response_url: str,
    ) -> str:  # fmt: skip
        """Store an accepted command in the caller's transaction; its id for `launch`."""
        row = CommandRow(
            id=self.new_id(), partner_id=partner.id, command=command, method=call.method,
            request=call.request.SerializeToString(), response_url=response_url,
            status=PENDING, created_at=self.clock(),
        )  # fmt: skip
        session.add(row)
        return row.id

    def launch(self, command_id: str, call: StationCall) -> None:
        """Ask the station (after the command's row committed)."""
        task = asyncio.create_task(self._run(command_id, call))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        """Shutdown: commands in flight are left PENDING; `recover` answers them TIMEOUT."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def drain(self) -> None:
        """Wait for every command in flight (tests, shutdown)."""
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _run(self, command_id: str, call: StationCall) -> None:
        result, message = await self._ask_station(call)
        await self._answer(command_id, result, message)

    async def _ask_station(self, call: StationCall) -> tuple[str, str]:
        assert self._stub is not None
        method: Callable[..., Awaitable[gw.CommandReply]] = getattr(self._stub, call.method)
        try:
            reply = await method(call.request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return "TIMEOUT", "the station did not answer in time"
            return "FAILED", f"{exc.code().name}: {exc.details() or ''}".strip()
        return result_of(reply.status), reply.status_reason

    async def _answer(self, command_id: str, result: str, message: str) -> bool:
        """The CommandResult into the outbox, once: False when it was answered already."""
        body: dict[str, Any] = {"result": result}
        if message:
            body["message"] = [{"language": "en", "text": message[:512]}]
        async with self.sessions.begin() as session:
            claimed = await session.execute(
                update(CommandRow)
                .where(CommandRow.id == command_id, CommandRow.status == PENDING)
                .values(status=ANSWERED, result=result, answered_at=self.clock())
            )
            if not getattr(claimed, "rowcount", 0):
                return False
            row = await session.get(CommandRow, command_id)
            assert row is not None
            # An absolute path: the outbox POSTs to the response_url itself.
            await self.outbox.enqueue(row.partner_id, "commands", f"command:{row.id}", "POST",
                                      row.response_url, body, session=session)  # fmt: skip
        return True

    async def recover(self, grace_s: float = 5.0) -> int:
        """Answer TIMEOUT for commands nobody answered within the timeout (the process that
        asked the station stopped); how many. Safe on every replica at once."""
        before = self.clock() - timedelta(seconds=self.timeout_s + grace_s)
        async with self.sessions() as session:
            stale = (
                await session.scalars(
                    select(CommandRow.id).where(
                        CommandRow.status == PENDING, CommandRow.created_at < before
                    )
                )
            ).all()
        answered = 0
        for command_id in stale:
            answered += await self._answer(
                command_id, "TIMEOUT", "the CPO restarted before the station answered"
            )
        return answered

    async def run_recovery(self, every_s: float) -> None:
        while True:
            try:
                await self.recover()
            except Exception as exc:  # the database was away: the next round answers them
                log.warning("command recovery failed", error=repr(exc))
            await asyncio.sleep(every_s)
