"""The energy store and its consumer's writes, on SQLite and PostgreSQL: the schema its
migration builds, what a rebalance reads, DR overlaps, history paging and pruning, and
re-delivered events changing nothing."""

from __future__ import annotations

import json
from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1 import events_pb2 as st
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.energy.app import MIGRATIONS
from chargegrid.energy.handlers import EnergyEvents
from chargegrid.energy.models import (
    AllocationRow,
    Base,
    ChargingEvseRow,
    CircuitRow,
    DemandResponseRow,
    StationSettingsRow,
)
from chargegrid.energy.site_model import energy_still_needed_wh
from chargegrid.energy.store import (
    allocation_page,
    known_sites,
    load_site,
    overlapping_demand_response,
    record_allocation,
)
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.platform.db import create_engine
from chargegrid.platform.migrations import downgrade, upgrade
from tests.unit.energy.fakes import T0, FakeClock, FakeDirectory, a_charging_evse


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migration_builds_the_models_schema_and_downgrades_to_nothing(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine, MIGRATIONS)
        async with engine.connect() as conn:
            assert await conn.run_sync(_differences) == []
        await downgrade(engine, MIGRATIONS)
        async with engine.connect() as conn:
            tables = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        assert tables <= {"alembic_version"}
    finally:
        await engine.dispose()


def _dr(event_id: str, start_min: int, end_min: int, state: str = "scheduled") -> DemandResponseRow:
    return DemandResponseRow(
        id=event_id,
        site_id="S1",
        starts_at=T0 + timedelta(minutes=start_min),
        ends_at=T0 + timedelta(minutes=end_min),
        kind="percent",
        value=50,
        state=state,
        source="operator",
        created_at=T0,
    )


async def test_a_site_is_read_with_its_charging_evses_settings_and_open_events(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        session.add_all(
            [
                a_charging_evse("A"),
                a_charging_evse("B", started_at=T0 - timedelta(minutes=1)),
                a_charging_evse("C", site_id="S2"),
                StationSettingsRow(
                    station_id="A",
                    site_id="S1",
                    node_id="",
                    max_current_a=16,
                    min_current_a=6,
                    phases=1,
                    rotation="L2",
                    offline_fallback_a=0,
                ),
                CircuitRow(
                    site_id="S1",
                    id="C1",
                    parent_id="",
                    name="garage",
                    limit_l1_a=20,
                    limit_l2_a=20,
                    limit_l3_a=20,
                    limit_kw=0,
                    nominal_voltage_v=230,
                    created_at=T0,
                ),
                _dr("open", 10, 20),
                _dr("past", -20, -10, state="ended"),
            ]
        )
    async with sessions() as session:
        rows = await load_site(session, "S1")
        sites = await known_sites(session)
    assert [r.station_id for r in rows.charging] == ["B", "A"]  # arrival order
    assert rows.stations["A"].rotation == "L2"
    assert [c.id for c in rows.circuits] == ["C1"]
    assert [d.id for d in rows.demand_responses] == ["open"]
    assert sites == {"S1", "S2"}


async def test_demand_responses_that_share_any_moment_overlap(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        session.add_all([_dr("a", 10, 20), _dr("gone", 30, 40, state="cancelled")])
    async with sessions() as session:

        async def clash(start: int, end: int) -> str | None:
            row = await overlapping_demand_response(
                session, "S1", T0 + timedelta(minutes=start), T0 + timedelta(minutes=end)
            )
            return row.id if row else None

        assert await clash(15, 25) == "a"
        assert await clash(0, 11) == "a"
        assert await clash(20, 30) is None  # back to back is fine
        assert await clash(30, 40) is None  # a cancelled event holds no slot


async def test_history_is_paged_newest_first_and_pruned_per_site(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        for number in range(7):
            row = AllocationRow(
                site_id="S1",
                at=T0 + timedelta(seconds=number),
                trigger=f"t{number}",
                limit_l1_a=32,
                limit_l2_a=32,
                limit_l3_a=32,
                evses_json="[]",
            )
            await record_allocation(session, row, keep=5)
    async with sessions() as session:
        first = await allocation_page(session, "S1", None, 3)
        second = await allocation_page(session, "S1", first[-1].id, 3)
        count = await session.scalar(select(func.count()).select_from(AllocationRow))
    assert [r.trigger for r in first] == ["t6", "t5", "t4"]
    assert [r.trigger for r in second] == ["t3", "t2"]
    assert count == 5


class NoGroups:
    async def group_of(self, id_token: str) -> str:
        return "fleet" if id_token else ""


async def test_a_redelivered_batch_changes_nothing_and_updates_find_their_evse(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    directory = FakeDirectory()
    directory.add_station("A", "S1")
    notified: list[list[tuple[str, str]]] = []

    async def notify(changes: list[tuple[str, str]]) -> None:
        notified.append(changes)

    handler = EnergyEvents(sessions, FakeClock(), directory, NoGroups(), notify)
    factory = EnvelopeFactory("test", clock=FakeClock())
    started = factory.wrap(
        "transaction.started",
        "A",
        tx.TransactionStarted(transaction_id="T1", evse_id=1, id_token=tx.IdToken(id="CARD")),
    )
    sample = tx.MeterSample(measurand="Current.Import", phase="L1", unit="A", value=12.5)
    updated = factory.wrap(
        "transaction.updated", "A", tx.TransactionUpdated(transaction_id="T1", samples=[sample])
    )
    batch: list[tuple[Envelope, object]] = [(started, None), (updated, None)]

    await handler.batch(batch)  # type: ignore[arg-type]
    await handler.batch(batch)  # type: ignore[arg-type]

    async with sessions() as session:
        rows = list(await session.scalars(select(ChargingEvseRow)))
    assert len(rows) == 1
    row = rows[0]
    assert (row.evse_id, row.site_id, row.group_id, row.measured_l1_a) == (1, "S1", "fleet", 12.5)
    assert len(notified) == 1

    ended = factory.wrap("transaction.ended", "A", tx.TransactionEnded(transaction_id="T1"))
    await handler.batch([(ended, None)])  # type: ignore[list-item]
    async with sessions() as session:
        assert list(await session.scalars(select(ChargingEvseRow))) == []


async def test_the_energy_delivered_since_the_ev_stated_its_need_is_subtracted_from_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    directory = FakeDirectory()
    directory.add_station("A", "S1")

    async def notify(changes: list[tuple[str, str]]) -> None:
        return None

    handler = EnergyEvents(sessions, FakeClock(), directory, NoGroups(), notify)
    factory = EnvelopeFactory("test", clock=FakeClock())

    def register(wh: float) -> Envelope:
        sample = tx.MeterSample(measurand="Energy.Active.Import.Register", unit="Wh", value=wh)
        update = tx.TransactionUpdated(transaction_id="T1", evse_id=1, samples=[sample])
        return factory.wrap("transaction.updated", "A", update)

    needs = {
        "evseId": 1,
        "chargingNeeds": {
            "requestedEnergyTransfer": "AC_three_phase",
            "departureTime": (T0 + timedelta(hours=4)).isoformat(),
            "acChargingParameters": {
                "energyAmount": 30_000,
                "evMinCurrent": 6,
                "evMaxCurrent": 32,
                "evMaxVoltage": 400,
            },
        },
    }
    note = st.NotificationReceived(action="NotifyEVChargingNeeds", payload_json=json.dumps(needs))
    started = tx.TransactionStarted(transaction_id="T1", evse_id=1)
    await handler.batch(
        [
            (factory.wrap("transaction.started", "A", started), None),
            (register(1_000.0), None),  # before the need: not subtracted
            (factory.wrap("station.notification", "A", note), None),
            (register(1_500.0), None),
            (register(9_000.0), None),
        ]  # type: ignore[arg-type]
    )

    async with sessions() as session:
        row = (await session.scalars(select(ChargingEvseRow))).one()
    assert (row.energy_needed_wh, row.needs_register_wh, row.energy_register_wh) == (
        30_000.0,
        1_000.0,
        9_000.0,
    )
    assert energy_still_needed_wh(row) == 22_000.0
    row.energy_register_wh = 45_000.0  # more than it asked for: it needs nothing more
    assert energy_still_needed_wh(row) == 0.0
