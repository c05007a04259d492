"""What is charging and which stations are online, kept in memory by the energy consumer.

The consumer's events change this state many times a second; reading it back from the
database for every event cost more than everything else the service does. The database stays
the durable copy (written once per batch, read once at start), so a restarted service knows
at once who is charging. A batch works on a `Pending` copy of the stations it touches and
only `commit`s it into the live state after its database transaction committed, so a batch
that fails (and is split and re-applied) leaves the live state as it was.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.energy.models import ChargingEvseRow, StationStateRow


@dataclass
class ChargingEvse:
    """An EVSE with an open transaction (a `charging_evses` row)."""

    station_id: str
    evse_id: int
    site_id: str
    transaction_id: str
    id_token: str
    group_id: str
    started_at: datetime
    updated_at: datetime
    measured_l1_a: float | None = None
    measured_l2_a: float | None = None
    measured_l3_a: float | None = None
    measured_at: datetime | None = None
    departure_at: datetime | None = None
    energy_needed_wh: float | None = None
    ev_max_current_a: float | None = None
    #: The import register now, and where it stood when the EV said what it needs: the
    #: deadline policy asks only for the energy still missing.
    energy_register_wh: float | None = None
    needs_register_wh: float | None = None


@dataclass
class StationState:
    """A station's connectivity (a `station_states` row)."""

    station_id: str
    online: bool
    ocpp_version: str
    updated_at: datetime
    booted_at: datetime | None = None


#: evse id -> its open transaction, of one station.
StationEvses = dict[int, ChargingEvse]


def _from_row(row: Any, kind: type[Any]) -> Any:
    return kind(**{name: getattr(row, name) for name in kind.__dataclass_fields__})


class LiveState:
    def __init__(self) -> None:
        self.charging: dict[str, StationEvses] = {}
        self.states: dict[str, StationState] = {}
        self.loaded = False

    async def load(self, session: AsyncSession) -> None:
        """Everything from the durable copy (at start: the only read of these tables)."""
        self.charging = {}
        for row in await session.scalars(select(ChargingEvseRow)):
            evse = _from_row(row, ChargingEvse)
            self.charging.setdefault(evse.station_id, {})[evse.evse_id] = evse
        self.states = {
            row.station_id: _from_row(row, StationState)
            for row in await session.scalars(select(StationStateRow))
        }
        self.loaded = True

    def commit(self, pending: Pending) -> None:
        for station_id, evses in pending.charging.items():
            if evses:
                self.charging[station_id] = evses
            else:
                self.charging.pop(station_id, None)
        self.states.update(pending.states)


def _same(new: StationEvses, old: StationEvses) -> bool:
    """Equal in what a rebalance reads: `updated_at` never is, the import register only
    once the EV stated an energy need (the deadline policy counts what it got since)."""
    if new.keys() != old.keys():
        return False
    for evse_id, evse in new.items():
        before = old[evse_id]
        if evse == before:
            continue
        ignored: dict[str, Any] = {"updated_at": before.updated_at}
        if evse.needs_register_wh is None and evse.energy_needed_wh is None:
            ignored["energy_register_wh"] = before.energy_register_wh
        if dataclasses.replace(evse, **ignored) != before:
            return False
    return True


class Pending:
    """One batch's changes: copies of the touched stations, written in a few statements."""

    def __init__(self, live: LiveState) -> None:
        self.live = live
        self.charging: dict[str, StationEvses] = {}
        self.states: dict[str, StationState] = {}

    def evses(self, station_id: str) -> StationEvses:
        """The station's open transactions, to change (a copy until committed)."""
        found = self.charging.get(station_id)
        if found is None:
            found = {k: copy.copy(e) for k, e in self.live.charging.get(station_id, {}).items()}
            self.charging[station_id] = found
        return found

    def peek(self, station_id: str) -> StationEvses:
        """The station's open transactions, to read only."""
        found = self.charging.get(station_id)
        return found if found is not None else self.live.charging.get(station_id, {})

    def state(self, station_id: str) -> StationState | None:
        found = self.states.get(station_id)
        if found is None:
            live = self.live.states.get(station_id)
            if live is None:
                return None
            found = copy.copy(live)
            self.states[station_id] = found
        return found

    @staticmethod
    async def _keep_placements(session: AsyncSession, changed: dict[str, StationEvses]) -> None:
        """Sites the discovery loop stored for EVSEs this consumer had none for (the stations
        service was down): not overwritten with "" (read only while such EVSEs exist)."""
        unplaced = {
            station_id
            for station_id, evses in changed.items()
            if any(not e.site_id for e in evses.values())
        }
        if not unplaced:
            return
        query = (
            select(ChargingEvseRow.station_id, ChargingEvseRow.site_id)
            .where(ChargingEvseRow.station_id.in_(unplaced))
            .where(ChargingEvseRow.site_id != "")
        )
        placed = {station_id: site_id for station_id, site_id in await session.execute(query)}
        for station_id, site_id in placed.items():
            for evse in changed[station_id].values():
                evse.site_id = evse.site_id or site_id

    def add_state(self, state: StationState) -> None:
        self.states[state.station_id] = state

    async def write(self, session: AsyncSession) -> None:
        """The changed stations' rows replaced by their new state: a few statements. A
        station whose EVSEs only got a newer `updated_at` (a meter value without a current)
        is not written: the claim of its event is all that batch needs to store."""
        changed = {
            station_id: evses
            for station_id, evses in self.charging.items()
            if not _same(evses, self.live.charging.get(station_id, {}))
        }
        if changed:
            await self._keep_placements(session, changed)
            await session.execute(
                delete(ChargingEvseRow).where(ChargingEvseRow.station_id.in_(list(changed)))
            )
            rows = [dict(vars(e)) for evses in changed.values() for e in evses.values()]
            if rows:
                await session.execute(insert(ChargingEvseRow), rows)
        if self.states:
            await session.execute(
                delete(StationStateRow).where(StationStateRow.station_id.in_(list(self.states)))
            )
            await session.execute(
                insert(StationStateRow), [dict(vars(s)) for s in self.states.values()]
            )
