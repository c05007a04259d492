"""Each port's timeline out of its state changes: consecutive segments of one state.

A port (an EVSE) is in the state its latest facts say, in this order: the station's link is
offline -> offline; a station-wide (EVSE 0) Faulted or Unavailable -> that; else its own
latest status: Available -> available, Charging -> charging, Faulted, Unavailable, and
every other status (Preparing, SuspendedEV/EVSE, Finishing, Reserved, Occupied) -> occupied,
except a 2.x Occupied whose open transaction reports charging state Charging -> charging.
Before anything is known about it a port's state is unknown and counts nowhere. Changes at
the same millisecond apply in event-id order, so every replica and the test reference agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from chargegrid.analytics.state_changes import (
    CHARGE,
    CHARGING,
    LINK,
    OFFLINE,
    STATUS,
    TX,
    TX_END,
    TX_START,
)

CHARGING_STATE, OCCUPIED, AVAILABLE = "charging", "occupied", "available"
UNAVAILABLE, FAULTED, OFFLINE_STATE = "unavailable", "faulted", "offline"
STATES = (CHARGING, OCCUPIED, AVAILABLE, UNAVAILABLE, FAULTED, OFFLINE_STATE)
#: Outage causes as 23 CFR 680.116(b) reports list them.
CAUSES = {OFFLINE_STATE: "offline", FAULTED: "Faulted", UNAVAILABLE: "Unavailable"}
NO_ENERGY_FLOW = "no_energy_flow"
STATION_WIDE = frozenset({"Faulted", "Unavailable"})

#: (station, evse, at ms, signal, value, transaction id, wh, event id, site, timezone)
Row = tuple[str, int, int, str, str, str, float | None, str, str, str]
Segment = tuple[int, int, str]  # [start ms, end ms), state


@dataclass
class Port:
    station_id: str
    evse_id: int
    site_id: str = ""
    timezone: str = "UTC"
    segments: list[Segment] = field(default_factory=list)
    #: [start ms, end ms) of transactions that ended having delivered no energy.
    no_energy: list[tuple[int, int]] = field(default_factory=list)
    #: The latest status name and when the port's current state began (AFIR status).
    status: str = ""
    since_ms: int = 0
    #: The facts at the horizon (to resume the replay from there).
    facts: Facts | None = None

    @property
    def key(self) -> tuple[str, int]:
        return (self.station_id, self.evse_id)


def port_state(link: str, station_status: str, status: str, charge: str) -> str | None:
    if link == OFFLINE:
        return OFFLINE_STATE
    if station_status in STATION_WIDE:
        return station_status.lower()
    if not status:
        return None
    if status == "Available":
        return AVAILABLE
    if status == "Charging" or (status == "Occupied" and charge == CHARGING):
        return CHARGING_STATE
    if status in STATION_WIDE:
        return status.lower()
    return OCCUPIED


def _no_energy(rows: Iterable[Row]) -> list[tuple[int, int]]:
    starts: dict[str, tuple[int, float]] = {}
    ends: dict[str, tuple[int, float]] = {}
    for _s, _e, at, signal, value, transaction, wh, *_ in rows:
        if signal != TX or wh is None:
            continue
        if value == TX_START:
            starts.setdefault(transaction, (at, wh))
        elif value == TX_END:
            ends.setdefault(transaction, (at, wh))
    out = []
    for transaction, (start, start_wh) in starts.items():
        end = ends.get(transaction)
        if end is not None and end[0] > start and end[1] - start_wh <= 0:
            out.append((start, end[0]))
    return sorted(out)


@dataclass(frozen=True, slots=True)
class Facts:
    """What a replay knows about a port at an instant: enough to resume it from there."""

    link: str = ""
    station_status: str = ""
    status: str = ""
    charge: str = ""
    current: str = ""
    began: int = 0
    site_id: str = ""
    timezone: str = "UTC"


def _port(
    station: str,
    evse: int,
    rows: list[Row],
    horizon_ms: int,
    with_no_energy: bool,
    initial: Facts | None = None,
    since_ms: int = 0,
) -> Port:
    """Replay the station-wide and the port's own rows (already in order) up to horizon;
    resumed from `initial` (the facts at `since_ms`) when given, the rows then being those
    from `since_ms` on."""
    facts = initial or Facts()
    port = Port(station, evse, facts.site_id, facts.timezone)
    link, station_status, status, charge = (
        facts.link,
        facts.station_status,
        facts.status,
        facts.charge,
    )
    current: str | None = facts.current or None
    began = facts.began
    i = 0
    while i < len(rows) and rows[i][2] < horizon_ms:
        at = rows[i][2]
        while i < len(rows) and rows[i][2] == at:
            _s, row_evse, _at, signal, value, _t, _wh, _id, site, zone = rows[i]
            if signal == LINK:
                link = value
            elif signal == STATUS and row_evse == 0:
                station_status = value
            elif signal == STATUS:
                status = value
            elif signal == CHARGE:
                charge = value
            elif signal == TX and value == TX_END:
                charge = ""
            if row_evse == evse:
                port.site_id, port.timezone = site, zone
            i += 1
        state = port_state(link, station_status, status, charge)
        if state != current:
            if current is not None and at > max(began, since_ms):
                port.segments.append((max(began, since_ms), at, current))
            current, began = state, at
    if current is not None and horizon_ms > max(began, since_ms):
        port.segments.append((max(began, since_ms), horizon_ms, current))
    port.status = _status_name(link, station_status, status, current)
    port.since_ms = began
    port.facts = Facts(
        link, station_status, status, charge, current or "", began, port.site_id, port.timezone
    )
    if with_no_energy:
        found = _no_energy(rows)
        port.no_energy = [(a, min(b, horizon_ms)) for a, b in found if a < horizon_ms]
    return port


def _status_name(link: str, station_status: str, status: str, state: str | None) -> str:
    if state is None:
        return ""
    if state == OFFLINE_STATE:
        return "Offline"
    if station_status in STATION_WIDE:
        return station_status
    if state == CHARGING_STATE:
        return "Charging"
    if status in ("Available", "Reserved", "Faulted", "Unavailable"):
        return status
    return "Occupied"


def ports(
    rows: Iterable[Row],
    horizon_ms: int,
    with_no_energy: bool = True,
    resume: dict[tuple[str, int], Facts] | None = None,
    since_ms: dict[str, int] | None = None,
) -> list[Port]:
    """Every port the rows name (EVSE > 0), each replayed up to `horizon_ms` (and its
    transactions without energy found, when asked: uptime needs them, utilization not).
    Ports in `resume` continue from those facts, their station's rows being those from
    `since_ms[station]` on."""
    resume = resume or {}
    since_ms = since_ms or {}
    by_station: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_station[row[0]].append(row)
    for station, _evse in resume:
        by_station.setdefault(station, [])
    out = []
    for station, found in sorted(by_station.items()):
        found.sort(key=lambda r: (r[2], r[7]))
        evses = sorted({r[1] for r in found if r[1] > 0} | {e for s, e in resume if s == station})
        for evse in evses:
            mine = [r for r in found if r[1] in (0, evse)]
            out.append(
                _port(
                    station,
                    evse,
                    mine,
                    horizon_ms,
                    with_no_energy,
                    resume.get((station, evse)),
                    since_ms.get(station, 0),
                )
            )
    return out


def overlaps(
    segments: list[Segment], buckets: list[tuple[int, int]]
) -> Iterator[tuple[int, str, int]]:
    """(bucket index, state, ms of the state inside it) for sorted, disjoint segments and
    buckets."""
    j = 0
    for index, (start, end) in enumerate(buckets):
        while j < len(segments) and segments[j][1] <= start:
            j += 1
        k = j
        while k < len(segments) and segments[k][0] < end:
            a, b, state = segments[k]
            inside = min(b, end) - max(a, start)
            if inside > 0:
                yield index, state, inside
            k += 1
