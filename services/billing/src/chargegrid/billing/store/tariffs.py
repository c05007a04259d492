"""Tariff versions and assignments."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.billing.domain.codec import element_from_dict, element_to_dict
from chargegrid.billing.domain.tariffs import Assignment, Target, TargetKind, Tariff
from chargegrid.billing.models import AssignmentRow, TariffRow


def _to_domain(row: TariffRow) -> Tariff:
    return Tariff(
        id=row.tariff_id,
        currency=row.currency,
        vat_percent=Decimal(row.vat_percent),
        elements=tuple(element_from_dict(e) for e in json.loads(row.elements)),
        version=row.version,
        effective_from=row.effective_from,
        display_text=row.display_text,
        created_at=row.created_at,
    )


async def latest_version(session: AsyncSession, tariff_id: str) -> int:
    """The newest version number of `tariff_id`; 0 if there is none."""
    query = select(func.max(TariffRow.version)).where(TariffRow.tariff_id == tariff_id)
    return int((await session.execute(query)).scalar() or 0)


async def add_version(session: AsyncSession, tariff: Tariff) -> Tariff:
    if tariff.effective_from is None or tariff.created_at is None:
        raise ValueError("a stored tariff needs effective_from and created_at")
    session.add(
        TariffRow(
            tariff_id=tariff.id,
            version=tariff.version,
            currency=tariff.currency,
            vat_percent=str(tariff.vat_percent),
            elements=json.dumps([element_to_dict(e) for e in tariff.elements]),
            effective_from=tariff.effective_from,
            display_text=tariff.display_text,
            created_at=tariff.created_at,
        )
    )
    await session.flush()
    return tariff


async def get_version(session: AsyncSession, tariff_id: str, version: int = 0) -> Tariff | None:
    """Version `version` of the tariff, or its newest when 0."""
    query = select(TariffRow).where(TariffRow.tariff_id == tariff_id)
    if version:
        query = query.where(TariffRow.version == version)
    row = (await session.execute(query.order_by(TariffRow.version.desc()).limit(1))).scalar()
    return _to_domain(row) if row else None


async def versions(session: AsyncSession, tariff_id: str) -> list[Tariff]:
    query = select(TariffRow).where(TariffRow.tariff_id == tariff_id)
    return [_to_domain(row) for row in (await session.execute(query)).scalars()]


async def list_latest(session: AsyncSession, after_id: str, limit: int) -> list[Tariff]:
    """The newest version of each tariff, by id, after `after_id`."""
    newest = (
        select(TariffRow.tariff_id, func.max(TariffRow.version).label("version"))
        .where(TariffRow.tariff_id > after_id)
        .group_by(TariffRow.tariff_id)
        .subquery()
    )
    query = (
        select(TariffRow)
        .join(
            newest,
            (TariffRow.tariff_id == newest.c.tariff_id) & (TariffRow.version == newest.c.version),
        )
        .order_by(TariffRow.tariff_id)
        .limit(limit)
    )
    return [_to_domain(row) for row in (await session.execute(query)).scalars()]


def _assignment(row: AssignmentRow) -> Assignment:
    return Assignment(
        row.id,
        row.tariff_id,
        Target(TargetKind(row.target_kind), row.target_value),
        row.effective_from,
    )


async def add_assignment(session: AsyncSession, assignment: Assignment, now: datetime) -> None:
    session.add(
        AssignmentRow(
            id=assignment.id,
            tariff_id=assignment.tariff_id,
            target_kind=assignment.target.kind.value,
            target_value=assignment.target.value,
            effective_from=assignment.effective_from,
            created_at=now,
        )
    )
    await session.flush()


async def assignments(session: AsyncSession, tariff_id: str = "") -> list[Assignment]:
    query = select(AssignmentRow).order_by(AssignmentRow.effective_from, AssignmentRow.id)
    if tariff_id:
        query = query.where(AssignmentRow.tariff_id == tariff_id)
    return [_assignment(row) for row in (await session.execute(query)).scalars()]


async def assignments_for(
    session: AsyncSession, station_id: str, site_id: str, token_group: str
) -> list[Assignment]:
    """Every assignment that could apply to a session with these keys."""
    wanted = [
        (TargetKind.STATION, station_id),
        (TargetKind.SITE, site_id),
        (TargetKind.TOKEN_GROUP, token_group),
        (TargetKind.DEFAULT, ""),
    ]
    conditions = [
        (AssignmentRow.target_kind == kind.value) & (AssignmentRow.target_value == value)
        for kind, value in wanted
        if value or kind == TargetKind.DEFAULT
    ]
    query = select(AssignmentRow).where(or_(*conditions))
    return [_assignment(row) for row in (await session.execute(query)).scalars()]
