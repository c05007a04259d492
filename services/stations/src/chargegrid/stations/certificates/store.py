"""Issued certificates: recorded at issue, marked at delivery, found for renewal."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.stations.models import IssuedCertificateRow


async def record_issued(
    session: AsyncSession,
    station_id: str,
    certificate_type: str,
    certificate: x509.Certificate,
    issued_at: datetime,
) -> IssuedCertificateRow:
    """The new certificate, superseding the station's earlier ones of the same type."""
    await session.execute(
        update(IssuedCertificateRow)
        .where(
            IssuedCertificateRow.station_id == station_id,
            IssuedCertificateRow.certificate_type == certificate_type,
        )
        .values(superseded=True)
    )
    row = IssuedCertificateRow(
        serial=format(certificate.serial_number, "x"),
        station_id=station_id,
        certificate_type=certificate_type,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        issued_at=issued_at,
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
        delivery="pending",
        superseded=False,
    )
    session.add(row)
    return row


async def mark_delivery(session: AsyncSession, serial: str, delivery: str) -> None:
    await session.execute(
        update(IssuedCertificateRow)
        .where(IssuedCertificateRow.serial == serial)
        .values(delivery=delivery)
    )


async def due_for_renewal(session: AsyncSession, before: datetime) -> list[IssuedCertificateRow]:
    """Current charging station certificates expiring before `before`, not yet renewed."""
    rows = await session.scalars(
        select(IssuedCertificateRow)
        .where(
            IssuedCertificateRow.not_after < before,
            IssuedCertificateRow.superseded.is_(False),
            IssuedCertificateRow.renewal_requested_at.is_(None),
        )
        .order_by(IssuedCertificateRow.not_after)
    )
    return list(rows)


async def list_issued(
    session: AsyncSession, station_id: str, expiring_before: datetime | None
) -> list[IssuedCertificateRow]:
    query = select(IssuedCertificateRow).order_by(
        IssuedCertificateRow.issued_at.desc(), IssuedCertificateRow.serial
    )
    if station_id:
        query = query.where(IssuedCertificateRow.station_id == station_id)
    if expiring_before is not None:
        query = query.where(IssuedCertificateRow.not_after < expiring_before)
    return list(await session.scalars(query))
