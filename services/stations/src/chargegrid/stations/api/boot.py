"""What the gateway asks (boot decisions, credentials) and station passwords.

Password digests are PBKDF2 and deliberately slow, so hashing and checking run in a thread,
never on the event loop. Boots are stored and decided in batches (`boots.BootRegistrar`): a
storm of them costs a few transactions, not one each. A pushed password is stored only once
the station accepted it, so the station is never locked out by a password it does not know.
"""

from __future__ import annotations

import asyncio
import hmac

from chargegrid.api.common.v1.common_pb2 import OCPP_VERSION_16
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.logging import get_logger
from chargegrid.platform.passwords import check_password, generate_password, hash_password
from chargegrid.stations.api import validation as check
from chargegrid.stations.api.base import ApiBase, Context
from chargegrid.stations.boots import BootRegistrar
from chargegrid.stations.gateway import CommandRefused, StationUnreachable
from chargegrid.stations.policy import REJECTED
from chargegrid.stations.store.presence import BootInfo
from chargegrid.stations.store.stations import find_station, get_station

log = get_logger(__name__)
#: Configuration keys that carry the Basic password (names, not secrets).
PASSWORD_KEY_16 = "AuthorizationKey"  # noqa: S105
PASSWORD_KEY_2X = "SecurityCtrlr/BasicAuthPassword"  # noqa: S105
STORED_AFTER = frozenset({"Accepted", "RebootRequired"})


class BootApi(ApiBase):
    boots: BootRegistrar

    async def RegisterBoot(
        self, request: pb.RegisterBootRequest, context: Context
    ) -> pb.RegisterBootReply:
        station_id = check.station_id(request.station_id, "station_id")
        boot = BootInfo(
            vendor=request.vendor,
            model=request.model,
            serial_number=request.serial_number,
            firmware_version=request.firmware_version,
            reason=request.reason,
            ocpp_version=check.ocpp_version(request.ocpp_version),
            security_profile=request.security_profile,
            at=self.deps.clock(),
        )
        status, interval = await self.boots(station_id, boot)
        log.info("boot registered", station_id=station_id, status=status)
        return pb.RegisterBootReply(status=status, interval_s=interval)

    async def VerifyCredentials(
        self, request: pb.VerifyCredentialsRequest, context: Context
    ) -> pb.VerifyCredentialsReply:
        station_id = check.station_id(request.station_id, "station_id")
        async with self.deps.sessions() as session:
            station = await find_station(session, station_id)
        if station is None:
            return pb.VerifyCredentialsReply(valid=False, reason="unknown_station")
        if station.registration_status == REJECTED:
            return pb.VerifyCredentialsReply(valid=False, reason="rejected")
        if request.certificate_fingerprint:
            pinned = station.certificate_fingerprint
            # Without a pinned fingerprint the gateway's CA check and CN match are the proof.
            if pinned and not hmac.compare_digest(pinned, request.certificate_fingerprint.lower()):
                return pb.VerifyCredentialsReply(valid=False, reason="mismatch")
            return pb.VerifyCredentialsReply(valid=True)
        if not station.password_hash:
            return pb.VerifyCredentialsReply(valid=False, reason="no_password")
        if not await asyncio.to_thread(check_password, request.password, station.password_hash):
            return pb.VerifyCredentialsReply(valid=False, reason="mismatch")
        return pb.VerifyCredentialsReply(valid=True)

    async def SetStationPassword(
        self, request: pb.SetStationPasswordRequest, context: Context
    ) -> pb.SetStationPasswordReply:
        station_id = check.station_id(request.station_id, "station_id")
        secret = check.password(request.password) if request.password else generate_password()
        async with self.deps.sessions() as session:
            version = (await get_station(session, station_id)).ocpp_version
        digest = await asyncio.to_thread(hash_password, secret)
        push_status = await self._push(station_id, version, secret) if request.push else ""
        if request.push and push_status not in STORED_AFTER:
            log.info("password not changed", station_id=station_id, push_status=push_status)
            return pb.SetStationPasswordReply(push_status=push_status)
        async with self.deps.sessions() as session, session.begin():
            (await get_station(session, station_id)).password_hash = digest
        log.info("station password changed", station_id=station_id, pushed=request.push)
        generated = "" if request.password else secret
        return pb.SetStationPasswordReply(generated_password=generated, push_status=push_status)

    async def _push(self, station_id: str, version: int, secret: str) -> str:
        if not version:
            return "offline"  # never connected: its OCPP version is unknown
        key = PASSWORD_KEY_16 if version == OCPP_VERSION_16 else PASSWORD_KEY_2X
        try:
            answers = await self.deps.commands.set_configuration(station_id, {key: secret})
        except StationUnreachable:
            return "offline"
        except CommandRefused as refused:
            return refused.status
        return answers.get(key, "Rejected")
