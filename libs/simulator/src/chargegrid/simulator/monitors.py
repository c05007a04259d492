"""Variable monitors of a 2.x station (block N), version-neutral logic only.

A monitor watches one device-model variable: a threshold (UpperThreshold / LowerThreshold) is
crossed or cleared, a Delta fires on a change at least its value. Only custom monitors exist
here (no hard-wired or preconfigured ones), and periodic monitors are not simulated: they are
answered UnsupportedMonitorType. Events are reported when the monitor's severity is at most
the monitoring level (0 = Danger is always reported; the default level 9 reports all).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chargegrid.simulator.device_variables import Variable

THRESHOLDS = ("UpperThreshold", "LowerThreshold")
SUPPORTED = (*THRESHOLDS, "Delta")
KNOWN = (*SUPPORTED, "Periodic", "PeriodicClockAligned")
CRITERIA = {
    "ThresholdMonitoring": THRESHOLDS,
    "DeltaMonitoring": ("Delta",),
    "PeriodicMonitoring": ("Periodic", "PeriodicClockAligned"),
}


@dataclass
class Monitor:
    id: int
    variable: Variable
    type: str
    value: float
    severity: int
    transaction: bool = False
    #: A threshold currently crossed (its clearing is reported once).
    tripped: bool = False


@dataclass(frozen=True)
class Trigger:
    """What a NotifyEvent reports about one monitor."""

    monitor: Monitor
    actual_value: str
    cleared: bool


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@dataclass
class MonitorStore:
    monitors: dict[int, Monitor] = field(default_factory=dict)
    level: int = 9
    next_id: int = 1
    next_event_id: int = 1
    #: The id the last Accepted `set` gave its monitor.
    last_id: int = 0

    def set(self, variable: Variable, kind: str, value: float, severity: int, given: int) -> str:
        """SetMonitoringResult status; the monitor's id is `last_id` when Accepted."""
        if kind not in KNOWN:
            return "Rejected"
        if kind not in SUPPORTED:
            return "UnsupportedMonitorType"
        if variable.data_type not in ("integer", "decimal"):
            return "Rejected"
        if given and given not in self.monitors:
            return "Rejected"
        for other in self.monitors.values():
            same = (other.variable, other.type, other.value, other.severity)
            if other.id != given and same == (variable, kind, value, severity):
                return "Duplicate"
        monitor_id = given or self.next_id
        self.next_id = max(self.next_id, monitor_id + 1)
        self.monitors[monitor_id] = Monitor(monitor_id, variable, kind, value, severity)
        self.last_id = monitor_id
        return "Accepted"

    def clear(self, monitor_id: int) -> str:
        return "Accepted" if self.monitors.pop(monitor_id, None) is not None else "NotFound"

    def reset_custom(self) -> None:
        self.monitors.clear()

    def matching(self, criteria: list[str], variables: list[Variable] | None) -> list[Monitor]:
        kinds = {k for c in criteria for k in CRITERIA.get(c, ())} if criteria else set(KNOWN)
        return [
            m
            for m in self.monitors.values()
            if m.type in kinds and (variables is None or m.variable in variables)
        ]

    def changed(self, variable: Variable, old: str, new: str) -> list[Trigger]:
        """The events a change of `variable` from `old` to `new` raises."""
        before, after = _number(old), _number(new)
        if after is None:
            return []
        found: list[Trigger] = []
        for monitor in self.monitors.values():
            if monitor.variable is not variable or monitor.severity > self.level:
                continue
            if monitor.type == "Delta":
                if before is not None and abs(after - before) >= monitor.value:
                    found.append(Trigger(monitor, new, False))
                continue
            crossed = (
                after > monitor.value
                if monitor.type == "UpperThreshold"
                else (after < monitor.value)
            )
            if crossed != monitor.tripped:
                monitor.tripped = crossed
                found.append(Trigger(monitor, new, not crossed))
        return found

    def event_id(self) -> int:
        self.next_event_id += 1
        return self.next_event_id - 1
