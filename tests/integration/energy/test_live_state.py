"""The energy consumer's in-memory state on SQLite and PostgreSQL: what it holds is in the
database after every batch, a restarted consumer reloads it, a failed batch leaves it as it
was, and a measured draw wakes the controller only when it moved (or to refresh it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1 import events_pb2 as st
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.energy import handlers
from chargegrid.energy.handlers import MEASURED_REFRESH_S, EnergyEvents
from chargegrid.energy.live import Pending
from chargegrid.energy.models import ChargingEvseRow, StationStateRow
from chargegrid.energy.store import place_station
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.platform.bus.idempotency import processed_events
from tests.unit.energy.fakes import T0, FakeClock, FakeDirectory


class Groups:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def group_of(self, id_token: str) -> str:
        self.asked.append(id_token)
        return "fleet"


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Rig:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.directory = FakeDirectory()
        self.directory.add_station("A", "S1")
        self.groups = Groups()
        self.monotonic = Monotonic()
        self.notified: list[tuple[str, str]] = []
        self.factory = EnvelopeFactory("test", clock=FakeClock())

    def handler(self) -> EnergyEvents:
        async def notify(changes: list[tuple[str, str]]) -> None:
            self.notified.extend(changes)

        return EnergyEvents(
            self.sessions,
            FakeClock(),
            self.directory,
            self.groups,
            notify,
            monotonic=self.monotonic,
        )

    def started(self, transaction_id: str = "T1", evse_id: int = 1) -> Envelope:
        body = tx.TransactionStarted(
            transaction_id=transaction_id, evse_id=evse_id, id_token=tx.IdToken(id="CARD")
        )
        return self.factory.wrap("transaction.started", "A", body)

    def drawing(self, amps: float, transaction_id: str = "T1") -> Envelope:
        sample = tx.MeterSample(measurand="Current.Import", phase="L1", unit="A", value=amps)
        body = tx.TransactionUpdated(transaction_id=transaction_id, samples=[sample])
        return self.factory.wrap("transaction.updated", "A", body)

    def ended(self, transaction_id: str = "T1") -> Envelope:
        body = tx.TransactionEnded(transaction_id=transaction_id)
        return self.factory.wrap("transaction.ended", "A", body)

    def offline(self) -> Envelope:
        return self.factory.wrap("station.disconnected", "A", st.StationDisconnected())


async def _feed(handler: EnergyEvents, *envelopes: Envelope) -> None:
    items: Sequence[Any] = [(e, None) for e in envelopes]
    await handler.batch(items)


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> list[ChargingEvseRow]:
    async with sessions() as session:
        return list(await session.scalars(select(ChargingEvseRow)))


@pytest.fixture
def rig(sessions: async_sessionmaker[AsyncSession]) -> Rig:
    return Rig(sessions)


async def test_a_restarted_consumer_reloads_who_charges_and_who_is_online(rig: Rig) -> None:
    first = rig.handler()
    await _feed(first, rig.started("T1", 1), rig.started("T2", 2), rig.drawing(12.5, "T2"))
    await _feed(first, rig.offline())

    restarted = rig.handler()
    await restarted.load()

    evses = restarted.live.charging["A"]
    assert {k: (e.transaction_id, e.group_id) for k, e in evses.items()} == {
        1: ("T1", "fleet"),
        2: ("T2", "fleet"),
    }
    assert evses[2].measured_l1_a == 12.5
    assert not restarted.live.states["A"].online
    # An update without its EVSE finds it by transaction id, in the reloaded state.
    await _feed(restarted, rig.drawing(20.0, "T2"), rig.ended("T1"))
    rows = await _rows(rig.sessions)
    assert [(r.evse_id, r.transaction_id, r.measured_l1_a, r.site_id) for r in rows] == [
        (2, "T2", 20.0, "S1")
    ]
    async with rig.sessions() as session:
        state = await session.get(StationStateRow, "A")
    assert state is not None
    assert not state.online


async def test_a_failed_batch_leaves_the_live_state_and_the_database_as_they_were(
    rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = rig.handler()
    await _feed(handler, rig.started("T1"))

    async def broken(self: Pending, session: AsyncSession) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(Pending, "write", broken)
    with pytest.raises(RuntimeError):
        await _feed(handler, rig.ended("T1"), rig.started("T9", 2))
    monkeypatch.undo()

    assert set(handler.live.charging["A"]) == {1}
    assert [r.transaction_id for r in await _rows(rig.sessions)] == ["T1"]
    # The same events come again (the batch is retried) and now apply.
    await _feed(handler, rig.ended("T1"), rig.started("T9", 2))
    assert [r.transaction_id for r in await _rows(rig.sessions)] == ["T9"]
    assert [e.transaction_id for e in handler.live.charging["A"].values()] == ["T9"]


async def test_a_token_group_is_asked_once_while_cached(rig: Rig) -> None:
    handler = rig.handler()
    await _feed(handler, rig.started("T1"), rig.ended("T1"))
    await _feed(handler, rig.started("T2"), rig.ended("T2"))

    assert rig.groups.asked == ["CARD"]
    rig.monotonic.now += handlers.GROUP_TTL_S
    await _feed(handler, rig.started("T3"))
    assert rig.groups.asked == ["CARD", "CARD"]


async def test_a_draw_wakes_the_site_when_it_moved_by_an_amp_or_to_refresh_it(rig: Rig) -> None:
    handler = rig.handler()
    await _feed(handler, rig.started(), rig.drawing(16.0))
    assert rig.notified == [("A", "session started"), ("A", "meter values")]
    rig.notified.clear()

    await _feed(handler, rig.drawing(16.5))  # moved by less than an amp
    await _feed(handler, rig.drawing(15.2))  # 0.8 A from what the controller last heard
    assert rig.notified == []
    await _feed(handler, rig.drawing(17.0))
    assert rig.notified == [("A", "meter values")]
    rig.notified.clear()

    rig.monotonic.now += MEASURED_REFRESH_S - 0.1
    await _feed(handler, rig.drawing(17.2))
    assert rig.notified == []
    rig.monotonic.now += 0.1  # a steady draw still refreshes its site
    await _feed(handler, rig.drawing(17.2))
    assert rig.notified == [("A", "meter values")]
    # Every reading is stored all the same, woken or not.
    assert [r.measured_l1_a for r in await _rows(rig.sessions)] == [17.2]


async def test_a_site_the_discovery_loop_placed_is_not_overwritten_by_the_next_batch(
    rig: Rig,
) -> None:
    rig.directory.stations.clear()  # the stations service does not know A yet
    handler = rig.handler()
    await _feed(handler, rig.started())
    assert [r.site_id for r in await _rows(rig.sessions)] == [""]
    async with rig.sessions() as session, session.begin():
        await place_station(session, "A", "S1")

    await _feed(handler, rig.drawing(10.0))

    assert [(r.site_id, r.measured_l1_a) for r in await _rows(rig.sessions)] == [("S1", 10.0)]


async def test_a_status_wakes_the_site_only_when_it_changed_and_is_not_claimed(rig: Rig) -> None:
    handler = rig.handler()

    def status(value: int) -> Envelope:
        body = st.StatusChanged(evse_id=1, connector_id=1, status=value)  # type: ignore[arg-type]
        return rig.factory.wrap("station.status_changed", "A", body)

    charging, available = st.CONNECTOR_STATUS_CHARGING, st.CONNECTOR_STATUS_AVAILABLE
    await _feed(handler, status(charging), status(charging))
    await _feed(handler, status(charging))
    assert rig.notified == [("A", "status changed")]
    await _feed(handler, status(available))
    assert rig.notified == [("A", "status changed")] * 2
    async with rig.sessions() as session:
        claimed = await session.scalar(select(func.count()).select_from(processed_events))
    assert claimed == 0


async def test_a_meter_value_without_a_current_writes_no_row_only_its_claim(rig: Rig) -> None:
    handler = rig.handler()
    clock = FakeClock()
    handler.clock = clock
    await _feed(handler, rig.started())
    register = tx.MeterSample(measurand="Energy.Active.Import.Register", unit="Wh", value=9)
    only_energy = rig.factory.wrap(
        "transaction.updated", "A", tx.TransactionUpdated(transaction_id="T1", samples=[register])
    )

    clock.advance(60)
    await _feed(handler, only_energy)
    assert [r.updated_at for r in await _rows(rig.sessions)] == [T0]
    assert handler.live.charging["A"][1].updated_at == T0 + timedelta(seconds=60)
    async with rig.sessions() as session:
        claimed = await session.scalar(select(func.count()).select_from(processed_events))
    assert claimed == 2

    clock.advance(60)
    await _feed(handler, rig.drawing(8.0))
    rows = await _rows(rig.sessions)
    assert [(r.updated_at, r.measured_l1_a) for r in rows] == [(T0 + timedelta(seconds=120), 8.0)]
