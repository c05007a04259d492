"""Heartbeats and statuses of a batch folded into the few facts worth writing.

Most station events (heartbeats, status notifications, firmware and log statuses, ...) only
say "the station was alive at t" and perhaps "this connector is now s". Applied one by one
they cost a row read and write each; folded per batch they become one time per station (the
latest wins) and one status per connector (the latest by time wins, a tie goes to the later
event, as one-at-a-time application would have it). Both facts are idempotent by nature (a
time is only ever moved forward, a status only replaced by a newer one), so these events
need no claimed id: a re-delivery writes what is already there. Events that change state in
an order-dependent way (`STATEFUL`) stay with the per-event handlers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chargegrid.stations.store.status import StatusReport

#: Order-dependent events: applied one by one, in order, with their ids claimed. A station
#: with one of these in a batch has all its events of that batch applied that way.
STATEFUL = frozenset(
    {
        "station.connected",
        "station.disconnected",
        "station.booted",
        "station.report",
        "station.notification",
        "station.reservation_used",
        "station.protocol_violation",
    }
)
STATUS_CHANGED = "station.status_changed"

ConnectorKey = tuple[str, int, int]


@dataclass
class LiveSigns:
    """The latest sign of life per station and the latest status per connector."""

    seen: dict[str, datetime] = field(default_factory=dict)
    statuses: dict[ConnectorKey, StatusReport] = field(default_factory=dict)

    def alive(self, station_id: str, at: datetime) -> None:
        known = self.seen.get(station_id)
        if known is None or at > known:
            self.seen[station_id] = at

    def status(self, station_id: str, report: StatusReport) -> None:
        """Keep the newer report; connector 0 (1.6: the charge point itself) is no connector."""
        if report.evse_id <= 0 or report.connector_id <= 0:
            return
        key = (station_id, report.evse_id, report.connector_id)
        known = self.statuses.get(key)
        if known is None or report.at >= known.at:
            self.statuses[key] = report
