"""CostUpdated after session updates: sent when the total changed, only to stations that
have it, never blocking the consumer, forgotten once billed (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from chargegrid.billing.cost_updates import CostUpdates, NotConnected, NotSupported, RunningSession
from chargegrid.billing.handlers import SessionEvents
from tests.integration.billing.builders import START, FakeClock, a_session, closed, opened, updated
from tests.integration.billing.conftest import Database
from tests.integration.billing.test_session_events import given_tariff
from tests.unit.billing.builders import a_tariff, element, energy


@dataclass
class FakeDisplay:
    """Stations as the gateway shows them: version 2.x or not, connected or not."""

    with_cost_updated: set[str] = field(default_factory=lambda: {"CP-1"})
    offline: set[str] = field(default_factory=set)
    not_implemented: set[str] = field(default_factory=set)
    shown: list[tuple[str, str, Decimal]] = field(default_factory=list)
    asked: int = 0
    gate: asyncio.Event | None = None

    async def supports_cost_updates(self, station_id: str) -> bool:
        self.asked += 1
        if station_id in self.offline:
            raise NotConnected(station_id)
        return station_id in self.with_cost_updated

    async def show_cost(self, station_id: str, transaction_id: str, total: Decimal) -> None:
        if self.gate is not None:
            await self.gate.wait()
        if station_id in self.not_implemented:
            raise NotSupported("NotImplemented")
        self.shown.append((station_id, transaction_id, total))


def wire(events: SessionEvents, costs: CostUpdates) -> None:
    events.on_update = lambda s: costs.session_updated(
        RunningSession(s.id, s.station_id, s.transaction_id)
    )
    events.on_closed = costs.session_closed


async def settle(costs: CostUpdates) -> None:
    await costs.stop()


async def test_the_running_cost_is_sent_when_it_changes(
    db: Database, events: SessionEvents, clock: FakeClock
) -> None:
    await given_tariff(db, a_tariff(element(energy("0.50"))))
    display = FakeDisplay()
    costs = CostUpdates(db.sessions, clock, display)
    wire(events, costs)
    await events(opened(a_session()))
    clock.advance(minutes=10)
    at = START + timedelta(minutes=10)
    await events(updated(a_session(updated_at=at, energy_wh=2000, charging_s=600)))
    await settle(costs)
    # The same reading again (re-sent by the session service): the total did not change.
    clock_at = START + timedelta(minutes=10, seconds=1)
    await events(updated(a_session(updated_at=clock_at, energy_wh=2000, charging_s=601)))
    await settle(costs)
    clock.advance(minutes=10)
    at = START + timedelta(minutes=20)
    await events(updated(a_session(updated_at=at, energy_wh=4000, charging_s=1200)))
    await settle(costs)
    assert display.shown == [
        ("CP-1", "tx-1", Decimal("1.00")),
        ("CP-1", "tx-1", Decimal("2.00")),
    ]
    assert display.asked == 1  # the station's version is remembered between updates


async def test_stations_without_cost_updated_offline_or_refusing_get_none(
    db: Database, events: SessionEvents, clock: FakeClock
) -> None:
    await given_tariff(db, a_tariff(element(energy("0.50"))))
    display = FakeDisplay(
        with_cost_updated={"CP-1", "CP-3"}, offline={"CP-2"}, not_implemented={"CP-3"}
    )
    costs = CostUpdates(db.sessions, clock, display)
    wire(events, costs)
    for station in ("CP-1", "CP-2", "CP-3", "CP-16"):
        await events(opened(a_session(station)))
    clock.advance(minutes=5)
    at = START + timedelta(minutes=5)
    for station in ("CP-2", "CP-3", "CP-16"):
        await events(updated(a_session(station, updated_at=at, energy_wh=1000, charging_s=300)))
    await settle(costs)
    assert display.shown == []
    asked = display.asked
    # CP-3 said NotImplemented and CP-16 is 1.6: both are remembered, not asked again.
    at = START + timedelta(minutes=6)
    for station in ("CP-3", "CP-16"):
        await events(updated(a_session(station, updated_at=at, energy_wh=1500, charging_s=360)))
    await settle(costs)
    assert display.asked == asked


async def test_a_slow_station_never_holds_up_billing(
    db: Database, events: SessionEvents, clock: FakeClock
) -> None:
    await given_tariff(db, a_tariff(element(energy("0.50"))))
    display = FakeDisplay(gate=asyncio.Event())
    costs = CostUpdates(db.sessions, clock, display)
    wire(events, costs)
    await events(opened(a_session()))
    at = START + timedelta(minutes=5)
    # The station does not answer; the consumer still handles the updates and the close.
    await events(updated(a_session(updated_at=at, energy_wh=1000, charging_s=300)))
    await events(updated(a_session(updated_at=at, energy_wh=1200, charging_s=310)))
    await asyncio.wait_for(
        events(closed(a_session(ended_at=at, energy_wh=1200, charging_s=310))), timeout=5
    )
    display.gate.set()  # type: ignore[union-attr]
    await settle(costs)
    # Closing the session cancelled the call in flight: the CDR is the final figure.
    assert display.shown == []
    assert costs._last_sent == {}
