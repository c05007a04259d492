"""SignCertificate end to end on the CSMS side: check, issue, record, deliver.

The decision (Accepted / Rejected) is the reply to the station's SignCertificate; the chain
goes out afterwards as CertificateSigned (A02.FR.02 / A03), a little later so that the
station has its answer first, and again on failure a few times. Nothing is issued for a
CSR that is refused.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.platform.logging import get_logger
from chargegrid.stations.certificates.authority import CertificateAuthority
from chargegrid.stations.certificates.csr import CsrRefused, check_csr
from chargegrid.stations.certificates.store import mark_delivery, record_issued
from chargegrid.stations.clock import Clock
from chargegrid.stations.gateway import CommandRefused, StationCommands, StationUnreachable
from chargegrid.stations.models import StationRow
from chargegrid.stations.reconcile import BackgroundTasks

log = get_logger(__name__)
CHARGING_STATION = "ChargingStationCertificate"
V2G = "V2GCertificate"


@dataclass(frozen=True)
class SignDecision:
    status: str
    reason: str = ""
    detail: str = ""
    serial: str = ""


def rejected(reason: str, detail: str) -> SignDecision:
    return SignDecision("Rejected", reason, detail)


@dataclass(frozen=True)
class IssuerSettings:
    validity: timedelta
    organization: str = ""
    delivery_delay_s: float = 0.5
    delivery_attempts: int = 3


class CertificateIssuer:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        commands: StationCommands,
        tasks: BackgroundTasks,
        authority: CertificateAuthority,
        v2g_authority: CertificateAuthority | None,
        settings: IssuerSettings,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.commands = commands
        self.tasks = tasks
        self.authority = authority
        self.v2g_authority = v2g_authority
        self.settings = settings

    def _authority_for(self, certificate_type: str) -> CertificateAuthority | SignDecision:
        if certificate_type == CHARGING_STATION:
            return self.authority
        if certificate_type == V2G:
            if self.v2g_authority is None:
                return rejected("NoV2GCA", "no V2G certificate authority is configured")
            return self.v2g_authority
        return rejected("InvalidCertificateType", f"unknown certificate type {certificate_type!r}")

    async def sign(self, station_id: str, csr_pem: str, certificate_type: str) -> SignDecision:
        kind = certificate_type or CHARGING_STATION
        authority = self._authority_for(kind)
        if isinstance(authority, SignDecision):
            return authority
        try:
            checked = check_csr(csr_pem, station_id, self.settings.organization or None)
        except CsrRefused as exc:
            log.warning("CSR refused", station_id=station_id, reason=exc.detail)
            return rejected(exc.reason, exc.detail)
        now = self.clock()
        async with self.sessions() as session, session.begin():
            if await session.get(StationRow, station_id) is None:
                return rejected("UnknownStation", f"station {station_id} is not registered")
            certificate = authority.issue(checked.request, now, self.settings.validity)
            row = await record_issued(session, station_id, kind, certificate, now)
            chain = row.certificate_pem + authority.certificate_pem
            serial = row.serial
        log.info("certificate issued", station_id=station_id, type=kind, serial=serial)
        # 2.x: certificateType on CertificateSigned only when the station asked with one.
        self.tasks.spawn(
            f"certificate:{serial}", self._deliver(station_id, serial, chain, certificate_type)
        )
        return SignDecision("Accepted", serial=serial)

    async def _deliver(
        self, station_id: str, serial: str, chain: str, certificate_type: str
    ) -> None:
        outcome = "failed"
        for attempt in range(1, self.settings.delivery_attempts + 1):
            await asyncio.sleep(self.settings.delivery_delay_s * attempt)
            try:
                status = await self.commands.certificate_signed(station_id, chain, certificate_type)
            except StationUnreachable as exc:
                log.warning("certificate not delivered", station_id=station_id, error=str(exc))
                continue
            except CommandRefused as exc:
                log.warning("certificate refused", station_id=station_id, error=str(exc))
                break
            outcome = "delivered" if status == "Accepted" else "rejected"
            break
        async with self.sessions() as session, session.begin():
            await mark_delivery(session, serial, outcome)
        log.info("certificate delivery", station_id=station_id, serial=serial, outcome=outcome)
