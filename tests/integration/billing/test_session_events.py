"""Session events in, exactly one priced CDR out (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from chargegrid.api.billing.v1 import billing_pb2 as pb
from chargegrid.billing.domain.tariffs import Assignment, Target, TargetKind, Tariff
from chargegrid.billing.handlers import SessionEvents
from chargegrid.billing.models import ActiveSessionRow, CdrRow, OutboxRow, SessionPointRow
from chargegrid.billing.store import cdrs
from chargegrid.billing.store import tariffs as store
from chargegrid.platform.bus import decode, unpack
from tests.integration.billing.builders import START, FakeClock, a_session, closed, opened, updated
from tests.integration.billing.conftest import Database
from tests.unit.billing.builders import a_tariff, between, element, energy, flat, parking

EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


async def given_tariff(
    db: Database, tariff: Tariff, target: Target = Target(TargetKind.DEFAULT), version: int = 1
) -> None:
    async with db.sessions() as session, session.begin():
        stored = Tariff(
            tariff.id,
            tariff.currency,
            tariff.vat_percent,
            tariff.elements,
            version,
            tariff.effective_from or EPOCH,
            "",
            EPOCH,
        )
        await store.add_version(session, stored)
        if version == 1:
            await store.add_assignment(
                session,
                Assignment(f"A-{tariff.id}-{target.value}", tariff.id, target, EPOCH),
                EPOCH,
            )


async def count(db: Database, table: type) -> int:
    async with db.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(table))).scalar() or 0)


async def test_a_closed_session_gets_one_cdr_priced_in_the_site_time_zone(
    db: Database, events: SessionEvents, clock: FakeClock
) -> None:
    await given_tariff(
        db,
        a_tariff(
            element(energy("0.20"), **between("00:00", "18:00")),
            element(energy("0.40"), **between("18:00", "00:00")),
            vat="19",
        ),
    )
    await events(opened(a_session()))
    clock.advance(hours=1)
    end = START + timedelta(hours=1)
    await events(closed(a_session(ended_at=end, energy_wh=22000, charging_s=3600)))
    async with db.sessions() as session:
        cdr = await cdrs.by_session(session, "CP-1:tx-1")
    assert cdr is not None
    assert cdr.timezone == "Europe/Berlin"
    assert cdr.site_id == "SITE-1"
    assert cdr.cost.total_excl_vat == Decimal("6.60")
    assert cdr.cost.total_incl_vat == Decimal("7.85")  # 7.854 rounded once
    assert (cdr.total_time_s, cdr.charging_time_s, cdr.parking_time_s) == (3600, 3600, 0)
    assert await count(db, OutboxRow) == 1
    assert await count(db, ActiveSessionRow) == 0


async def test_redelivery_and_a_second_close_leave_exactly_one_cdr_and_one_event(
    db: Database, events: SessionEvents
) -> None:
    await given_tariff(db, a_tariff(element(energy("0.30"))))
    close = closed(a_session(ended_at=START + timedelta(hours=1), energy_wh=11500))
    await events(close)
    await events(close)
    await events(closed(a_session(ended_at=START + timedelta(hours=2), energy_wh=99000)))
    assert await count(db, CdrRow) == 1
    assert await count(db, OutboxRow) == 1
    async with db.sessions() as session:
        row = (await session.execute(select(OutboxRow))).scalar_one()
    envelope = decode(row.envelope)
    assert envelope.type == "cdr.created"
    assert unpack(envelope, pb.CdrCreated).cdr.cost.total_excl_vat == "3.4500"


async def test_updates_build_the_timeline_and_parking_is_billed_after_charging(
    db: Database, events: SessionEvents
) -> None:
    await given_tariff(db, a_tariff(element(flat("1.00"), parking("6.00", step=60))))
    await events(opened(a_session()))
    charged = START + timedelta(minutes=35)
    await events(updated(a_session(updated_at=charged, energy_wh=7000, charging_s=2100)))
    await events(
        updated(
            a_session(updated_at=charged + timedelta(minutes=10), energy_wh=7000, charging_s=2100)
        )
    )
    assert await count(db, SessionPointRow) == 2
    end = START + timedelta(hours=1)
    await events(closed(a_session(ended_at=end, energy_wh=7000, charging_s=2100)))
    async with db.sessions() as session:
        cdr = await cdrs.by_session(session, "CP-1:tx-1")
    assert cdr is not None
    assert cdr.cost.total_excl_vat == Decimal("3.50")
    assert cdr.parking_time_s == 25 * 60
    assert await count(db, SessionPointRow) == 0


async def test_a_close_without_updates_parks_after_the_reported_charging_time(
    db: Database, events: SessionEvents
) -> None:
    await given_tariff(db, a_tariff(element(flat("1.00"), parking("6.00", step=60))))
    end = START + timedelta(hours=1)
    await events(closed(a_session(ended_at=end, energy_wh=7000, charging_s=2100)))
    async with db.sessions() as session:
        cdr = await cdrs.by_session(session, "CP-1:tx-1")
    assert cdr is not None
    assert cdr.cost.total_excl_vat == Decimal("3.50")


async def test_a_late_update_after_the_close_changes_nothing(
    db: Database, events: SessionEvents
) -> None:
    await events(closed(a_session(ended_at=START + timedelta(hours=1), energy_wh=1000)))
    await events(updated(a_session(updated_at=START + timedelta(minutes=30), energy_wh=500)))
    assert await count(db, ActiveSessionRow) == 0
    assert await count(db, SessionPointRow) == 0


async def test_a_session_no_tariff_applies_to_still_gets_a_free_cdr(
    db: Database, events: SessionEvents
) -> None:
    await events(closed(a_session(ended_at=START + timedelta(hours=1), energy_wh=1000)))
    async with db.sessions() as session:
        cdr = await cdrs.by_session(session, "CP-1:tx-1")
    assert cdr is not None
    assert cdr.cost.lines == ()
    assert cdr.cost.total_incl_vat == 0


async def test_the_token_group_tariff_beats_the_station_and_default_tariffs(
    db: Database, events: SessionEvents, lookups: object
) -> None:
    lookups.groups["TAG-1"] = "FLEET"  # type: ignore[attr-defined]
    await given_tariff(db, a_tariff(element(energy("0.50"))))
    await given_tariff(
        db,
        Tariff("ST", "EUR", Decimal(0), a_tariff(element(energy("0.40"))).elements),
        Target(TargetKind.STATION, "CP-1"),
    )
    await given_tariff(
        db,
        Tariff("FL", "EUR", Decimal(0), a_tariff(element(energy("0.10"))).elements),
        Target(TargetKind.TOKEN_GROUP, "FLEET"),
    )
    await events(opened(a_session()))
    await events(closed(a_session(ended_at=START + timedelta(hours=1), energy_wh=10000)))
    async with db.sessions() as session:
        cdr = await cdrs.by_session(session, "CP-1:tx-1")
    assert cdr is not None
    assert (cdr.cost.tariff_id, cdr.cost.total_excl_vat) == ("FL", Decimal("1.00"))


async def test_a_tariff_update_after_the_start_does_not_change_the_session_price(
    db: Database, events: SessionEvents
) -> None:
    await given_tariff(db, a_tariff(element(energy("0.30"))))
    newer = Tariff(
        "T1",
        "EUR",
        Decimal(0),
        a_tariff(element(energy("0.90"))).elements,
        effective_from=START + timedelta(minutes=10),
    )
    await given_tariff(db, newer, version=2)
    await events(closed(a_session(ended_at=START + timedelta(hours=1), energy_wh=10000)))
    async with db.sessions() as session:
        cdr = await cdrs.by_session(session, "CP-1:tx-1")
    assert cdr is not None
    assert (cdr.cost.tariff_version, cdr.cost.total_excl_vat) == (1, Decimal("3.00"))


async def test_a_whole_session_in_one_batch_with_a_repeat_is_billed_once_as_if_one_by_one(
    db: Database, events: SessionEvents
) -> None:
    await given_tariff(db, a_tariff(element(energy("0.30"))))
    half = START + timedelta(minutes=30)
    end = START + timedelta(hours=1)
    close = closed(a_session(ended_at=end, energy_wh=10000, charging_s=3600))
    billed: list[str] = []
    events.on_closed = billed.append
    batch = [
        opened(a_session()),
        updated(a_session(updated_at=half, energy_wh=5000, charging_s=1800)),
        close,
        close,  # redelivered within the same batch
        opened(a_session("CP-2")),
    ]
    await events.batch([(envelope, None) for envelope in batch])
    async with db.sessions() as session:
        cdr = await cdrs.by_session(session, "CP-1:tx-1")
    assert cdr is not None
    assert cdr.cost.total_excl_vat == Decimal("3.00")
    assert await count(db, CdrRow) == 1
    assert await count(db, OutboxRow) == 1
    assert await count(db, ActiveSessionRow) == 1  # CP-2's, still charging
    assert billed == ["CP-1:tx-1"], "callbacks run once, after the commit"
    await events.batch([(close, None)])  # the batch again, later: nothing more
    assert await count(db, CdrRow) == 1
