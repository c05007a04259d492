"""The campaign runner, one per cluster: it starts, retries and times out updates.

Each tick, SCHEDULED campaigns whose start has come are started; then, per running
campaign: an update silent longer than its timeout fails ("timed
out"), a failed one with attempts left is queued again after `retry_interval_s`, and queued
ones inside their station's local window are sent while fewer than `max_in_flight` are in
progress. Unless the campaign is forced, a station charging someone is passed over ("in
session") and asked again next tick; when only such stations are left they are SKIPPED and
the campaign is COMPLETED, as it is when nothing is queued, in progress or waiting for a
retry. Single-station updates silent too long fail as well, so nothing stays pending.

The session service is asked between two transactions, so no database transaction waits on
the network; the second one re-reads the rows and only moves updates still QUEUED.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.firmware.campaigns import COMPLETED, RUNNING, SCHEDULED
from chargegrid.firmware.charging import SessionsUnavailable
from chargegrid.firmware.models import CampaignRow, ImageRow, StationUpdateRow
from chargegrid.firmware.status import State
from chargegrid.firmware.updates import ApiDeps, send_update
from chargegrid.firmware.windows import in_local_window
from chargegrid.platform.logging import get_logger

IN_SESSION, SESSIONS_DOWN, TIMED_OUT = "in session", "session service unavailable", "timed out"

log = get_logger(__name__)


@dataclass
class Turn:
    """What one tick may do for one campaign, decided in the first transaction."""

    force: bool
    capacity: int
    #: (update id, station id) of queued updates inside their window, oldest first.
    candidates: list[tuple[str, str]]
    go: list[str] = field(default_factory=list)
    #: Update id -> why it was passed over this tick.
    passed: dict[str, str] = field(default_factory=dict)


async def _updates_of(session: AsyncSession, campaign_id: str) -> list[StationUpdateRow]:
    query = select(StationUpdateRow).where(StationUpdateRow.campaign_id == campaign_id)
    return sorted((await session.scalars(query)).all(), key=lambda u: u.id)


def _fail_silent(
    update: StationUpdateRow, timeout_s: int, now: datetime, listening_since: datetime
) -> None:
    """Fail an update silent for `timeout_s`, counting only time this process was listening:
    after a restart, what the station said meanwhile is still in the event backlog."""
    heard = max(update.updated_at, listening_since)
    if update.state == State.IN_PROGRESS.value and heard + timedelta(seconds=timeout_s) <= now:
        update.state, update.detail, update.updated_at = State.FAILED.value, TIMED_OUT, now
        log.info("firmware update timed out", station_id=update.station_id)


class CampaignRunner:
    def __init__(self, deps: ApiDeps) -> None:
        self.deps = deps
        self.listening_since = deps.clock()
        self._lock = asyncio.Lock()
        self._stopping = False

    async def tick(self) -> None:
        """One pass over single-station updates and running campaigns (one at a time here)."""
        async with self._lock:
            if self._stopping:
                return
            await self._time_out_single_updates()
            await self._start_scheduled()
            async with self.deps.sessions() as session:
                query = select(CampaignRow.id).where(CampaignRow.state == RUNNING)
                running = list((await session.scalars(query)).all())
            for campaign_id in running:
                await self._advance(campaign_id)

    async def stop(self) -> None:
        """No new tick; wait for the one under way, so every update it marked IN_PROGRESS
        was really sent and its answer stored (a restart neither loses nor repeats it)."""
        self._stopping = True
        await self._lock.acquire()  # the tick under way has finished
        self._lock.release()  # later ticks see _stopping and return at once

    async def run(self, every_s: float = 1.0) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("campaign tick failed")
            await asyncio.sleep(every_s)

    async def _start_scheduled(self) -> None:
        """SCHEDULED campaigns whose start time has come become RUNNING."""
        now = self.deps.clock()
        async with self.deps.sessions() as session, session.begin():
            query = select(CampaignRow).where(
                CampaignRow.state == SCHEDULED, CampaignRow.starts_at <= now
            )
            for campaign in (await session.scalars(query)).all():
                campaign.state, campaign.updated_at = RUNNING, now
                log.info("campaign started", campaign_id=campaign.id, starts_at=campaign.starts_at)

    async def _time_out_single_updates(self) -> None:
        now = self.deps.clock()
        since = now - timedelta(seconds=self.deps.station_timeout_s)
        query = select(StationUpdateRow).where(
            StationUpdateRow.campaign_id == "",
            StationUpdateRow.state == State.IN_PROGRESS.value,
            StationUpdateRow.updated_at <= since,
        )
        async with self.deps.sessions() as session, session.begin():
            for update in (await session.scalars(query)).all():
                _fail_silent(update, self.deps.station_timeout_s, now, self.listening_since)

    async def _advance(self, campaign_id: str) -> None:
        turn = await self._prepare(campaign_id)
        if turn is None:
            return
        await self._ask_sessions(turn)
        await self._start(campaign_id, turn)

    async def _prepare(self, campaign_id: str) -> Turn | None:
        now = self.deps.clock()
        async with self.deps.sessions() as session, session.begin():
            campaign = await session.get(CampaignRow, campaign_id)
            if campaign is None or campaign.state != RUNNING:
                return None
            updates = await _updates_of(session, campaign_id)
            timeout_s = campaign.station_timeout_s or self.deps.station_timeout_s
            retry_after = timedelta(seconds=campaign.retry_interval_s)
            for update in updates:
                _fail_silent(update, timeout_s, now, self.listening_since)
                due = update.updated_at + retry_after <= now
                if (
                    update.state == State.FAILED.value
                    and update.attempts <= campaign.retries
                    and due
                ):
                    update.state, update.updated_at = State.QUEUED.value, now
            in_flight = sum(u.state == State.IN_PROGRESS.value for u in updates)
            start, end = campaign.window_start, campaign.window_end
            candidates = [
                (u.id, u.station_id)
                for u in updates
                if u.state == State.QUEUED.value and in_local_window(now, u.timezone, start, end)
            ]
            return Turn(campaign.force, max(campaign.max_in_flight - in_flight, 0), candidates)

    async def _ask_sessions(self, turn: Turn) -> None:
        """Fill `turn.go` with up to `capacity` stations free to update now."""
        for position, (update_id, station_id) in enumerate(turn.candidates):
            if len(turn.go) >= turn.capacity:
                return
            if turn.force:
                turn.go.append(update_id)
                continue
            try:
                charging = await self.deps.charging.in_session(station_id)
            except SessionsUnavailable as exc:
                log.warning("session service unavailable", station_id=station_id, error=str(exc))
                # The others would wait on the same dead service: they all wait for it.
                for waiting_id, _ in turn.candidates[position:]:
                    turn.passed[waiting_id] = SESSIONS_DOWN
                return
            if charging:
                turn.passed[update_id] = IN_SESSION
            else:
                turn.go.append(update_id)

    async def _start(self, campaign_id: str, turn: Turn) -> None:
        now = self.deps.clock()
        to_send: list[StationUpdateRow] = []
        async with self.deps.sessions() as session, session.begin():
            campaign = await session.get(CampaignRow, campaign_id)
            if campaign is None or campaign.state != RUNNING:
                return
            updates = await _updates_of(session, campaign_id)
            for update in updates:
                if update.state != State.QUEUED.value:
                    continue
                if update.id in turn.go:
                    update.state, update.detail = State.IN_PROGRESS.value, ""
                    update.attempts += 1
                    update.request_id = self.deps.new_request_id()
                    update.booted_version = None
                    update.updated_at = now
                    to_send.append(update)
                elif update.id in turn.passed and update.detail != turn.passed[update.id]:
                    update.detail, update.updated_at = turn.passed[update.id], now
            self._maybe_complete(campaign, updates, turn, now)
            image = await session.get(ImageRow, campaign.image_id)
            install_at = campaign.install_at
        for update in to_send:
            await send_update(self.deps, update, image, install_at)

    def _maybe_complete(
        self, campaign: CampaignRow, updates: list[StationUpdateRow], turn: Turn, now: datetime
    ) -> None:
        waiting_retry = any(
            u.state == State.FAILED.value and u.attempts <= campaign.retries for u in updates
        )
        if waiting_retry or any(u.state == State.IN_PROGRESS.value for u in updates):
            return
        queued = [u for u in updates if u.state == State.QUEUED.value]
        if any(turn.passed.get(u.id) != IN_SESSION for u in queued):
            return
        for update in queued:
            update.state, update.detail, update.updated_at = State.SKIPPED.value, IN_SESSION, now
        campaign.state, campaign.updated_at = COMPLETED, now
        log.info("campaign completed", campaign_id=campaign.id, skipped_in_session=len(queued))
