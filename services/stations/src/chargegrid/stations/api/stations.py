"""Stations: operator registration and edits, listing with filters, approval, removal."""

from __future__ import annotations

import asyncio

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform import identifiers as ids
from chargegrid.platform import text_limits as limits
from chargegrid.platform.grpc.errors import FailedPrecondition, InvalidArgument, NotFound
from chargegrid.platform.logging import get_logger
from chargegrid.platform.passwords import hash_password
from chargegrid.stations.api import validation as check
from chargegrid.stations.api.base import ApiBase, Context
from chargegrid.stations.api.convert import station_to_proto
from chargegrid.stations.gateway import CommandRefused, StationUnreachable
from chargegrid.stations.models import StationRow
from chargegrid.stations.policy import ACCEPTED, REJECTED
from chargegrid.stations.station_lookup import StationLookup
from chargegrid.stations.store import stations as store
from chargegrid.stations.store.configuration import STATION, Scope, delete_scope
from chargegrid.stations.store.paging import next_token, page_of
from chargegrid.stations.store.sites import get_site

log = get_logger(__name__)


def connector_specs(evses: list[pb.Evse]) -> list[store.ConnectorSpec]:
    specs = []
    for evse in evses:
        for connector in evse.connectors:
            if evse.evse_id <= 0 or connector.connector_id <= 0:
                raise InvalidArgument("evse_id and connector_id must be positive")
            ids.connector_id(evse.evse_id, "evse_id")
            ids.connector_id(connector.connector_id, "connector_id")
            limits.bounded(connector.type, "connector.type", limits.CONNECTOR_TYPE)
            if connector.max_power_w < 0 or connector.max_current_a < 0:
                raise InvalidArgument("connector ratings must not be negative")
            specs.append(
                store.ConnectorSpec(
                    evse.evse_id,
                    connector.connector_id,
                    connector.type,
                    connector.max_power_w,
                    connector.max_current_a,
                )
            )
    return specs


def keeps_profile(station: StationRow, given: int) -> None:
    """UpdateStation never changes the required profile: 0 or the same value only."""
    if given and given != station.required_security_profile:
        raise FailedPrecondition(
            "required_security_profile changes only through RaiseSecurityProfile"
        )


class StationsApi(ApiBase):
    lookup: StationLookup

    async def CreateStation(self, request: pb.CreateStationRequest, context: Context) -> pb.Station:
        given = request.station
        station_id = check.station_id(given.id, "station.id")
        site_id = check.optional_site_id(given.site_id, "station.site_id")
        status = check.registration_filter(given.registration_status) or ACCEPTED
        specs = connector_specs(list(given.evses))
        station = store.new_station(station_id, status, self.deps.clock())
        station.site_id = site_id or None
        (
            station.vendor,
            station.model,
            station.serial_number,
            station.firmware_version,
        ) = check.station_details(given)
        station.heartbeat_interval_s = check.non_negative(given.heartbeat_interval_s, "interval")
        station.certificate_fingerprint = check.fingerprint(given.certificate_fingerprint)
        station.required_security_profile = check.security_profile(
            given.required_security_profile, "station.required_security_profile"
        )
        if request.password:
            secret = check.password(request.password)
            station.password_hash = await asyncio.to_thread(hash_password, secret)
        async with self.deps.sessions() as session, session.begin():
            if site_id:
                await get_site(session, site_id)
            await store.add_station(session, station)
            await store.replace_connector_specs(session, station_id, specs)
            return await self.station_message(session, station)

    async def UpdateStation(self, request: pb.UpdateStationRequest, context: Context) -> pb.Station:
        given = request.station
        station_id = check.station_id(given.id, "station.id")
        site_id = check.optional_site_id(given.site_id, "station.site_id")
        interval = check.non_negative(given.heartbeat_interval_s, "heartbeat_interval_s")
        vendor, model, serial_number, _ = check.station_details(given)
        specs = connector_specs(list(given.evses))
        async with self.deps.sessions() as session, session.begin():
            station = await store.get_station(session, station_id)
            keeps_profile(station, given.required_security_profile)
            if site_id:
                await get_site(session, site_id)
            station.site_id = site_id or None
            station.vendor, station.model = vendor, model
            station.serial_number = serial_number
            station.heartbeat_interval_s = interval
            await store.replace_connector_specs(session, station_id, specs)
            return await self.station_message(session, station)

    async def GetStation(self, request: pb.GetStationRequest, context: Context) -> pb.Station:
        station_id = check.station_id(request.station_id, "station_id")
        found = await self.lookup(station_id)
        if found is None:
            raise NotFound(f"station {station_id!r} does not exist")
        return found

    async def ListStations(
        self, request: pb.ListStationsRequest, context: Context
    ) -> pb.ListStationsReply:
        page = page_of(request.page)
        wanted = store.StationFilter(
            site_id=request.site_id,
            registration_status=check.registration_filter(request.registration_status),
            online=check.online_filter(request.online),
            vendor=request.vendor,
            model=request.model,
            firmware_version=request.firmware_version,
            connector_status=check.connector_status(request.connector_status),
        )
        async with self.deps.sessions() as session:
            rows, total = await store.list_stations(session, wanted, page)
            shown = rows[: page.size]
            connectors = await store.connectors_of(session, [row.id for row in shown])
        default = self.deps.policy.heartbeat_interval_s
        return pb.ListStationsReply(
            stations=[station_to_proto(r, connectors.get(r.id, []), default) for r in shown],
            next_page_token=next_token([row.id for row in rows], page),
            total=total,
        )

    async def DeleteStation(
        self, request: pb.DeleteStationRequest, context: Context
    ) -> pb.DeleteReply:
        station_id = check.station_id(request.station_id, "station_id")
        async with self.deps.sessions() as session, session.begin():
            await store.delete_station(session, station_id)
            await delete_scope(session, Scope(STATION, station_id))
        return pb.DeleteReply()

    async def ApproveStation(
        self, request: pb.ApproveStationRequest, context: Context
    ) -> pb.Station:
        station_id = check.station_id(request.station_id, "station_id")
        site_id = check.optional_site_id(request.site_id, "site_id")
        async with self.deps.sessions() as session, session.begin():
            station = await store.get_station(session, station_id)
            if site_id:
                await get_site(session, site_id)
                station.site_id = site_id
            was = station.registration_status
            station.registration_status = ACCEPTED
            reply = await self.station_message(session, station)
        log.info("station approved", station_id=station_id, was=was)
        if station.online and was != ACCEPTED:
            self.deps.tasks.spawn(f"boot:{station_id}", self._tell_station(station))
        return reply

    async def SetRegistrationStatus(
        self, request: pb.SetRegistrationStatusRequest, context: Context
    ) -> pb.Station:
        station_id = check.station_id(request.station_id, "station_id")
        status = check.registration_status(request.registration_status)
        async with self.deps.sessions() as session, session.begin():
            station = await store.get_station(session, station_id)
            was = station.registration_status
            station.registration_status = status
            reply = await self.station_message(session, station)
        log.info("registration status set", station_id=station_id, was=was, now=status)
        if station.online and was != status and status != REJECTED:
            self.deps.tasks.spawn(f"boot:{station_id}", self._tell_station(station))
        return reply

    async def _tell_station(self, station: StationRow) -> None:
        """Ask the station to boot again now, so it learns its new status (best effort)."""
        try:
            status = await self.deps.commands.trigger_boot(station.id)
        except (StationUnreachable, CommandRefused) as exc:
            log.info("could not trigger a boot", station_id=station.id, error=str(exc))
            return
        log.info("boot triggered after approval", station_id=station.id, status=status)
