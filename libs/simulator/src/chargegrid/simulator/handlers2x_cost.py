"""OCPP 2.x CostUpdated: the running cost the CSMS wants the station's display to show."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chargegrid.simulator.messages2x import Outbound2x
from chargegrid.simulator.routing import on


class Cost2x(Outbound2x):
    """CostUpdated: remembered per transaction (`station.displayed_cost`) and journaled."""

    @on("CostUpdated")
    def on_cost_updated(self, total_cost: float, transaction_id: str, **_: Any) -> Any:
        shown = Decimal(str(total_cost))
        self.station.displayed_cost[transaction_id] = shown
        self.station.note(f"cost of transaction {transaction_id}: {shown}")
        return self._call_result.CostUpdated()
