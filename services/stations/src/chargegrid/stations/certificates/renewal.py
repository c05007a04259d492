"""Renewal ahead of expiry: the station is asked for a new CSR (A02, TriggerMessage
SignChargingStationCertificate; 1.6 ExtendedTriggerMessage SignChargePointCertificate).

A station that accepts the trigger sends SignCertificate, and the new certificate
supersedes the old. One that is offline or refuses is asked again at the next check.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.platform.logging import get_logger
from chargegrid.stations.certificates.issuing import CHARGING_STATION
from chargegrid.stations.certificates.store import due_for_renewal
from chargegrid.stations.clock import Clock
from chargegrid.stations.gateway import CommandRefused, StationCommands, StationUnreachable
from chargegrid.stations.models import IssuedCertificateRow

log = get_logger(__name__)
TRIGGERS = {
    CHARGING_STATION: "SignChargingStationCertificate",
    "V2GCertificate": "SignV2GCertificate",
}


class CertificateRenewal:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        commands: StationCommands,
        renew_before: timedelta,
        every_s: float,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.commands = commands
        self.renew_before = renew_before
        self.every_s = every_s

    async def check(self) -> list[str]:
        """Triggers renewal of every certificate due; the serials the stations accepted."""
        now = self.clock()
        async with self.sessions() as session:
            due = await due_for_renewal(session, now + self.renew_before)
        accepted = []
        for row in due:
            try:
                status = await self.commands.trigger(row.station_id, TRIGGERS[row.certificate_type])
            except (StationUnreachable, CommandRefused) as exc:
                log.info("renewal not triggered", station_id=row.station_id, error=str(exc))
                continue
            if status != "Accepted":
                log.info("renewal trigger refused", station_id=row.station_id, status=status)
                continue
            async with self.sessions() as session, session.begin():
                await session.execute(
                    update(IssuedCertificateRow)
                    .where(IssuedCertificateRow.serial == row.serial)
                    .values(renewal_requested_at=now)
                )
            accepted.append(row.serial)
            log.info("renewal triggered", station_id=row.station_id, serial=row.serial)
        return accepted

    async def run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception as exc:  # the next round tries again
                log.warning("certificate renewal check failed", error=repr(exc))
            await asyncio.sleep(self.every_s)
