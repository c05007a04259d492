"""The Firmware gRPC API: image catalog, single-station updates, campaigns, log requests,
security events.

Rows are committed before a command goes to a station, so a status the station reports at
once finds its update or log file.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import delete, select

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.api.firmware.v1 import firmware_pb2_grpc as pb_grpc
from chargegrid.firmware import validation
from chargegrid.firmware.campaigns import Campaigns
from chargegrid.firmware.charging import SessionsUnavailable
from chargegrid.firmware.convert import (
    image_message,
    log_message,
    security_event_message,
    update_message,
)
from chargegrid.firmware.gateway import CommandRefused, LogOrder, StationUnreachable
from chargegrid.firmware.models import ImageRow, LogFileRow, SecurityEventRow, StationUpdateRow
from chargegrid.firmware.status import State
from chargegrid.firmware.updates import ACCEPTED, ApiDeps, send_update
from chargegrid.platform.grpc import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from chargegrid.platform.logging import get_logger
from chargegrid.platform.paging import encode_token, page_of

SERVICE_NAME = "chargegrid.api.firmware.v1.Firmware"
LOG_KINDS = ("diagnostics", "security")

log = get_logger(__name__)


def new_upload_token() -> str:
    return secrets.token_urlsafe(24)


def _time(stamp: Timestamp) -> datetime | None:
    return stamp.ToDatetime(tzinfo=UTC) if stamp.seconds or stamp.nanos else None


class FirmwareService(pb_grpc.FirmwareServicer):
    def __init__(self, deps: ApiDeps, campaigns: Campaigns | None = None) -> None:
        self.deps = deps
        self.campaigns = campaigns or Campaigns(deps)

    # Images -----------------------------------------------------------------------------

    async def AddImage(self, request: pb.AddImageRequest, context: Any) -> pb.FirmwareImage:
        image = request.image
        validation.image(image)
        if not image.version.strip():
            raise InvalidArgument("image.version is required")
        if not image.location.strip():
            raise InvalidArgument("image.location is required")
        if bool(image.signature) != bool(image.signing_certificate):
            raise InvalidArgument("a signed image needs both signing_certificate and signature")
        row = ImageRow(
            id=image.id or self.deps.new_id(),
            version=image.version.strip(),
            vendor=image.vendor,
            model=image.model,
            location=image.location.strip(),
            signing_certificate=image.signing_certificate,
            signature=image.signature,
            created_at=self.deps.clock(),
        )
        async with self.deps.sessions() as session, session.begin():
            if await session.get(ImageRow, row.id) is not None:
                raise AlreadyExists(f"image {row.id} exists")
            session.add(row)
        return image_message(row)

    async def ListImages(self, request: pb.ListImagesRequest, context: Any) -> pb.ListImagesReply:
        page = page_of(request.page)
        query = select(ImageRow).order_by(ImageRow.id).limit(page.size + 1)
        if request.vendor:
            query = query.where(ImageRow.vendor == request.vendor)
        if request.model:
            query = query.where(ImageRow.model.in_([request.model, ""]))
        if page.after is not None:
            query = query.where(ImageRow.id > page.after)
        async with self.deps.sessions() as session:
            rows = list((await session.scalars(query)).all())
        reply = pb.ListImagesReply(images=[image_message(row) for row in rows[: page.size]])
        if len(rows) > page.size:
            reply.next_page_token = encode_token(rows[page.size - 1].id)
        return reply

    # Single-station updates -------------------------------------------------------------

    async def UpdateStation(
        self, request: pb.UpdateStationRequest, context: Any
    ) -> pb.StationUpdate:
        validation.station_id(request.station_id)
        validation.record_id(request.image_id, "image_id")
        validation.location(request.location)
        if bool(request.image_id) == bool(request.location):
            raise InvalidArgument("give either image_id or location")
        now = self.deps.clock()
        image: ImageRow | None = None
        if request.image_id:
            async with self.deps.sessions() as session:
                image = await session.get(ImageRow, request.image_id)
            if image is None:
                raise NotFound(f"image {request.image_id} not found")
        if not request.force:
            await self._refuse_in_session(request.station_id)
        row = StationUpdateRow(
            id=self.deps.new_id(),
            station_id=request.station_id,
            image_id=request.image_id,
            campaign_id="",
            location=image.location if image is not None else request.location,
            expected_version=image.version if image is not None else "",
            state=State.IN_PROGRESS.value,
            detail="",
            attempts=1,
            request_id=self.deps.new_request_id(),
            booted_version=None,
            created_at=now,
            updated_at=now,
        )
        async with self.deps.sessions() as session, session.begin():
            session.add(row)
        row = await send_update(self.deps, row, image, _time(request.install_at))
        return update_message(row)

    async def _refuse_in_session(self, station_id: str) -> None:
        """An update reboots the station: not while it charges someone, unless forced."""
        try:
            charging = await self.deps.charging.in_session(station_id)
        except SessionsUnavailable as exc:
            raise Unavailable(
                f"cannot tell whether station {station_id} is charging ({exc}); "
                "try again, or use force"
            ) from exc
        if charging:
            raise FailedPrecondition(f"station {station_id} has an active session; use force")

    async def GetStationUpdate(
        self, request: pb.GetStationUpdateRequest, context: Any
    ) -> pb.StationUpdate:
        validation.station_id(request.station_id)
        query = (
            select(StationUpdateRow)
            .where(StationUpdateRow.station_id == request.station_id)
            .order_by(StationUpdateRow.created_at.desc(), StationUpdateRow.id.desc())
            .limit(1)
        )
        async with self.deps.sessions() as session:
            row = (await session.scalars(query)).first()
        if row is None:
            raise NotFound(f"station {request.station_id} has no firmware update")
        return update_message(row)

    # Campaigns ------------------------------------------------------------------------

    async def CreateCampaign(self, request: pb.CreateCampaignRequest, context: Any) -> pb.Campaign:
        return await self.campaigns.create(request.campaign)

    async def GetCampaign(self, request: pb.GetCampaignRequest, context: Any) -> pb.Campaign:
        return await self.campaigns.get(request.campaign_id)

    async def ListCampaigns(
        self, request: pb.ListCampaignsRequest, context: Any
    ) -> pb.ListCampaignsReply:
        return await self.campaigns.list(request)

    async def WatchCampaign(
        self, request: pb.GetCampaignRequest, context: Any
    ) -> AsyncIterator[pb.Campaign]:
        async for campaign in self.campaigns.watch(request.campaign_id):
            yield campaign

    async def PauseCampaign(self, request: pb.GetCampaignRequest, context: Any) -> pb.Campaign:
        return await self.campaigns.pause(request.campaign_id)

    async def ResumeCampaign(self, request: pb.GetCampaignRequest, context: Any) -> pb.Campaign:
        return await self.campaigns.resume(request.campaign_id)

    async def AbortCampaign(self, request: pb.GetCampaignRequest, context: Any) -> pb.Campaign:
        return await self.campaigns.abort(request.campaign_id)

    # Logs -------------------------------------------------------------------------------

    async def RequestLogs(self, request: pb.RequestLogsRequest, context: Any) -> pb.LogFile:
        validation.station_id(request.station_id)
        kind = request.kind or "diagnostics"
        if kind not in LOG_KINDS:
            raise InvalidArgument(f"kind must be one of {', '.join(LOG_KINDS)}")
        row = LogFileRow(
            id=self.deps.new_id(),
            station_id=request.station_id,
            kind=kind,
            request_id=self.deps.new_request_id(),
            status="Requested",
            upload_token=new_upload_token(),
            token_used=False,
            file_name="",
            size_bytes=0,
            sha256="",
            stored_path="",
            requested_at=self.deps.clock(),
            uploaded_at=None,
        )
        async with self.deps.sessions() as session, session.begin():
            session.add(row)
        base_url = self.deps.base_url()
        order = LogOrder(
            location=f"{base_url}/uploads/{row.upload_token}/",
            kind=kind,
            request_id=row.request_id,
            oldest=_time(request.oldest),
            latest=_time(request.latest),
            retries=self.deps.transfer_retries,
            retry_interval_s=self.deps.transfer_retry_interval_s,
        )
        try:
            answer = await self.deps.commands.get_logs(request.station_id, order)
        except StationUnreachable as exc:
            async with self.deps.sessions() as session, session.begin():
                await session.execute(delete(LogFileRow).where(LogFileRow.id == row.id))
            raise FailedPrecondition(f"station {request.station_id} is not connected") from exc
        except CommandRefused:
            answer_status, file_name = "Rejected", ""
        else:
            answer_status, file_name = answer.status, answer.file_name
        async with self.deps.sessions() as session, session.begin():
            stored = await session.get(LogFileRow, row.id)
            assert stored is not None
            if answer_status not in ACCEPTED:
                stored.status, stored.token_used = answer_status, True
            if file_name and not stored.file_name:
                stored.file_name = file_name
            row = stored
        return log_message(row, base_url)

    async def ListLogs(self, request: pb.ListLogsRequest, context: Any) -> pb.ListLogsReply:
        page = page_of(request.page)
        query = select(LogFileRow).order_by(LogFileRow.id).limit(page.size + 1)
        if validation.optional_station_id(request.station_id):
            query = query.where(LogFileRow.station_id == request.station_id)
        if page.after is not None:
            query = query.where(LogFileRow.id > page.after)
        async with self.deps.sessions() as session:
            rows = list((await session.scalars(query)).all())
        base_url = self.deps.base_url()
        reply = pb.ListLogsReply(logs=[log_message(row, base_url) for row in rows[: page.size]])
        if len(rows) > page.size:
            reply.next_page_token = encode_token(rows[page.size - 1].id)
        return reply

    # Security events --------------------------------------------------------------------

    async def ListSecurityEvents(
        self, request: pb.ListSecurityEventsRequest, context: Any
    ) -> pb.ListSecurityEventsReply:
        page = page_of(request.page)
        query = select(SecurityEventRow).order_by(SecurityEventRow.id).limit(page.size + 1)
        if validation.optional_station_id(request.station_id):
            query = query.where(SecurityEventRow.station_id == request.station_id)
        if request.type:
            query = query.where(SecurityEventRow.type == request.type)
        since = _time(request.since)
        if since is not None:
            query = query.where(SecurityEventRow.occurred_at >= since)
        if page.after is not None:
            if not page.after.isdigit():
                raise InvalidArgument("page_token is not a token this service issued")
            query = query.where(SecurityEventRow.id > int(page.after))
        async with self.deps.sessions() as session:
            rows = list((await session.scalars(query)).all())
        reply = pb.ListSecurityEventsReply(
            events=[security_event_message(row) for row in rows[: page.size]]
        )
        if len(rows) > page.size:
            reply.next_page_token = encode_token(rows[page.size - 1].id)
        return reply
