"""Campaigns: one image to many stations, at most `max_in_flight` updating at a time.

The RPCs live here; the runner (`runner.py`) moves the campaigns on. A campaign's stations
are station_updates rows, QUEUED until their turn, each with its site's time zone for the
window. The target is explicit station ids or a selection (site, vendor, model, current
version) resolved through the stations service at creation; bad input or an unreachable
stations service creates nothing. A campaign with a future `starts_at` is SCHEDULED until
then (the runner starts it); it can be paused or aborted before it starts.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.firmware import validation
from chargegrid.firmware.convert import stamp, update_message
from chargegrid.firmware.models import CampaignRow, ImageRow, StationUpdateRow
from chargegrid.firmware.stations import Selection
from chargegrid.firmware.status import State
from chargegrid.firmware.targets import parse_target, resolve, target_json, target_message
from chargegrid.firmware.updates import ApiDeps
from chargegrid.platform.grpc import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from chargegrid.platform.logging import get_logger
from chargegrid.platform.paging import encode_token, page_of

SCHEDULED, RUNNING, PAUSED = "SCHEDULED", "RUNNING", "PAUSED"
COMPLETED, ABORTED = "COMPLETED", "ABORTED"
ENDED = frozenset({COMPLETED, ABORTED})
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

log = get_logger(__name__)


def _validate(campaign: pb.Campaign) -> list[str] | Selection:
    validation.target(campaign.target)
    target = parse_target(campaign.target)
    if not campaign.image_id:
        raise InvalidArgument("image_id is required")
    validation.record_id(campaign.image_id, "image_id")
    for name in ("window_start", "window_end"):
        value = getattr(campaign, name)
        if value and not _HHMM.match(value):
            raise InvalidArgument(f"{name} must be HH:MM")
    if bool(campaign.window_start) != bool(campaign.window_end):
        raise InvalidArgument("give both window_start and window_end, or neither")
    numbers = ("max_in_flight", "retries", "retry_interval_s", "station_timeout_s")
    for name in numbers:
        if getattr(campaign, name) < 0:
            raise InvalidArgument(f"{name} must not be negative")
    return target


def campaign_message(row: CampaignRow, updates: list[StationUpdateRow]) -> pb.Campaign:
    message = pb.Campaign(
        id=row.id,
        image_id=row.image_id,
        target=target_message(row.target_json),
        max_in_flight=row.max_in_flight,
        window_start=row.window_start,
        window_end=row.window_end,
        retries=row.retries,
        retry_interval_s=row.retry_interval_s,
        force=row.force,
        station_timeout_s=row.station_timeout_s,
        state=pb.CampaignState.Value(f"CAMPAIGN_STATE_{row.state}"),
        stations=[update_message(update) for update in updates],
    )
    counts = {state: 0 for state in State}
    for update in updates:
        counts[State(update.state)] += 1
    message.queued, message.in_progress = counts[State.QUEUED], counts[State.IN_PROGRESS]
    message.succeeded, message.failed = counts[State.SUCCEEDED], counts[State.FAILED]
    message.skipped = counts[State.SKIPPED]
    stamp(message.install_at, row.install_at)
    stamp(message.created_at, row.created_at)
    stamp(message.starts_at, row.starts_at)
    return message


def _when(value: pb.Campaign, field: Literal["install_at", "starts_at"]) -> datetime | None:
    """An optional Timestamp field as an aware datetime (None when unset)."""
    stamped = getattr(value, field)
    return stamped.ToDatetime(tzinfo=UTC) if value.HasField(field) else None


def _waiting_or_running(row: CampaignRow, now: datetime) -> str:
    """SCHEDULED while its start lies ahead, else RUNNING."""
    return SCHEDULED if row.starts_at is not None and row.starts_at > now else RUNNING


class Campaigns:
    """The campaign RPCs, over the service's database."""

    def __init__(self, deps: ApiDeps, watch_poll_s: float = 0.5) -> None:
        self.deps = deps
        self.watch_poll_s = watch_poll_s

    async def create(self, campaign: pb.Campaign) -> pb.Campaign:
        target = _validate(campaign)
        async with self.deps.sessions() as session:
            image = await session.get(ImageRow, campaign.image_id)
        if image is None:
            raise NotFound(f"image {campaign.image_id} not found")
        stations = await resolve(target, self.deps.stations)
        now = self.deps.clock()
        row = CampaignRow(
            id=campaign.id or self.deps.new_id(),
            image_id=image.id,
            target_json=target_json(target, stations),
            max_in_flight=campaign.max_in_flight or 1,
            window_start=campaign.window_start,
            window_end=campaign.window_end,
            retries=campaign.retries,
            retry_interval_s=campaign.retry_interval_s,
            install_at=_when(campaign, "install_at"),
            starts_at=_when(campaign, "starts_at"),
            force=campaign.force,
            station_timeout_s=campaign.station_timeout_s,
            state=RUNNING,
            created_at=now,
            updated_at=now,
        )
        row.state = _waiting_or_running(row, now)
        async with self.deps.sessions() as session, session.begin():
            if await session.get(CampaignRow, row.id) is not None:
                raise AlreadyExists(f"campaign {row.id} exists")
            session.add(row)
            for station in stations:
                session.add(
                    StationUpdateRow(
                        id=self.deps.new_id(),
                        station_id=station.station_id,
                        image_id=image.id,
                        campaign_id=row.id,
                        location=image.location,
                        expected_version=image.version,
                        state=State.QUEUED.value,
                        detail="",
                        attempts=0,
                        request_id=0,
                        booted_version=None,
                        timezone=station.timezone,
                        created_at=now,
                        updated_at=now,
                    )
                )
        log.info("campaign created", campaign_id=row.id, stations=len(stations), state=row.state)
        return await self.get(row.id)

    async def _load(self, campaign_id: str) -> tuple[CampaignRow, list[StationUpdateRow]]:
        async with self.deps.sessions() as session:
            row = await session.get(CampaignRow, campaign_id)
            if row is None:
                raise NotFound(f"campaign {campaign_id} not found")
            query = (
                select(StationUpdateRow)
                .where(StationUpdateRow.campaign_id == campaign_id)
                .order_by(StationUpdateRow.id)
            )
            updates = list((await session.scalars(query)).all())
        return row, updates

    async def get(self, campaign_id: str) -> pb.Campaign:
        return campaign_message(*await self._load(campaign_id))

    async def list(self, request: pb.ListCampaignsRequest) -> pb.ListCampaignsReply:
        page = page_of(request.page)
        query = select(CampaignRow.id).order_by(CampaignRow.id).limit(page.size + 1)
        if page.after is not None:
            query = query.where(CampaignRow.id > page.after)
        async with self.deps.sessions() as session:
            ids = list((await session.scalars(query)).all())
        reply = pb.ListCampaignsReply(campaigns=[await self.get(i) for i in ids[: page.size]])
        if len(ids) > page.size:
            reply.next_page_token = encode_token(ids[page.size - 1])
        return reply

    async def _move(self, campaign_id: str, allowed: set[str], to: str) -> pb.Campaign:
        async with self.deps.sessions() as session, session.begin():
            row = await session.get(CampaignRow, campaign_id)
            if row is None:
                raise NotFound(f"campaign {campaign_id} not found")
            if row.state not in allowed:
                raise FailedPrecondition(f"campaign {campaign_id} is {row.state}")
            now = self.deps.clock()
            if to == RUNNING:  # resumed before its start: it waits again
                to = _waiting_or_running(row, now)
            row.state, row.updated_at = to, now
            if to == ABORTED:
                query = select(StationUpdateRow).where(
                    StationUpdateRow.campaign_id == campaign_id,
                    StationUpdateRow.state == State.QUEUED.value,
                )
                for update in (await session.scalars(query)).all():
                    update.state, update.detail = State.SKIPPED.value, "aborted"
                    update.updated_at = row.updated_at
        log.info("campaign changed", campaign_id=campaign_id, state=to)
        return await self.get(campaign_id)

    async def pause(self, campaign_id: str) -> pb.Campaign:
        return await self._move(campaign_id, {SCHEDULED, RUNNING}, PAUSED)

    async def resume(self, campaign_id: str) -> pb.Campaign:
        return await self._move(campaign_id, {PAUSED}, RUNNING)

    async def abort(self, campaign_id: str) -> pb.Campaign:
        return await self._move(campaign_id, {SCHEDULED, RUNNING, PAUSED}, ABORTED)

    async def watch(self, campaign_id: str) -> AsyncIterator[pb.Campaign]:
        last: pb.Campaign | None = None
        while True:
            current = await self.get(campaign_id)
            if current != last:
                yield current
                last = current
            if current.state in (pb.CAMPAIGN_STATE_COMPLETED, pb.CAMPAIGN_STATE_ABORTED):
                return
            await asyncio.sleep(self.watch_poll_s)
