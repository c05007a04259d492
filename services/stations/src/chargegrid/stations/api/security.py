"""Per-station security: what the gateway must require at the handshake (looked up for all
waiting handshakes at once, `boots.SecurityLookup`), and raising it."""

from __future__ import annotations

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.logging import get_logger
from chargegrid.stations.api import validation as check
from chargegrid.stations.api.base import ApiBase, Context
from chargegrid.stations.api.convert import REGISTRATION
from chargegrid.stations.boots import SecurityLookup
from chargegrid.stations.security import raise_profile
from chargegrid.stations.store.stations import get_station
from chargegrid.stations.upgrade import upgrade_profile

log = get_logger(__name__)


class SecurityApi(ApiBase):
    security: SecurityLookup

    async def GetStationSecurity(
        self, request: pb.GetStationSecurityRequest, context: Context
    ) -> pb.StationSecurity:
        station_id = check.station_id(request.station_id, "station_id")
        facts = await self.security(station_id)
        if facts is None:
            return pb.StationSecurity(known=False)
        return pb.StationSecurity(
            known=True,
            required_security_profile=facts.required_profile,
            has_password=facts.has_password,
            registration_status=REGISTRATION[facts.registration_status],  # type: ignore[arg-type]
        )

    async def RaiseSecurityProfile(
        self, request: pb.RaiseSecurityProfileRequest, context: Context
    ) -> pb.Station:
        station_id = check.station_id(request.station_id, "station_id")
        profile = check.security_profile(request.security_profile)
        async with self.deps.sessions() as session, session.begin():
            station = await get_station(session, station_id)
            was = station.required_security_profile
            raise_profile(station, profile)
            reply = await self.station_message(session, station)
        log.info("security profile raised", station_id=station_id, was=was, now=profile)
        return reply

    async def UpgradeSecurityProfile(
        self, request: pb.UpgradeSecurityProfileRequest, context: Context
    ) -> pb.UpgradeSecurityProfileReply:
        station_id = check.station_id(request.station_id, "station_id")
        done = await upgrade_profile(
            self.deps.sessions,
            self.deps.commands,
            station_id,
            request.security_profile,
            request.csms_url,
            request.configuration_slot,
        )
        log.info("security profile upgrade sent", station_id=station_id, steps=done.steps)
        return pb.UpgradeSecurityProfileReply(
            steps=done.steps, pending_security_profile=done.pending_profile
        )
