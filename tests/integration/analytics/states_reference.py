"""A generated month of connector states for the reference sites, and the plain computation
of utilization, uptime and status from it.

`generate_states` writes what gateways publish: stations connecting and dropping off, status
notifications per EVSE (1.6 style Preparing/Charging/SuspendedEV/Finishing on CP-B1 and
CP-N1, 2.x Occupied plus transaction charging states on the others), faults, station-wide
Unavailable, and transactions, some of which end with no energy. Every event falls on a
whole minute; some come late, some twice, some resent under a new id. The reference shares
no code with the service: it replays the events minute by minute (facts of one instant in
event-id order), labels every minute with zoneinfo and counts minutes.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.station.v1 import events_pb2 as st
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.platform.bus import EnvelopeFactory
from tests.integration.analytics.reference import MONTH_END, MONTH_START, SITES, STATIONS

#: The clock of the state tests: after the month, so the last states run into April.
STATES_NOW = datetime(2026, 4, 2, tzinfo=UTC)
TWO_X = {"CP-B2", "CP-U1"}
S = st
STATUS = {
    "Available": S.CONNECTOR_STATUS_AVAILABLE,
    "Preparing": S.CONNECTOR_STATUS_PREPARING,
    "Charging": S.CONNECTOR_STATUS_CHARGING,
    "SuspendedEV": S.CONNECTOR_STATUS_SUSPENDED_EV,
    "Finishing": S.CONNECTOR_STATUS_FINISHING,
    "Faulted": S.CONNECTOR_STATUS_FAULTED,
    "Unavailable": S.CONNECTOR_STATUS_UNAVAILABLE,
    "Occupied": S.CONNECTOR_STATUS_OCCUPIED,
    "Reserved": S.CONNECTOR_STATUS_RESERVED,
}
STATUS_NAME = {v: k for k, v in STATUS.items()}


@dataclass
class GeneratedStates:
    station_events: list[Envelope]
    transaction_events: list[Envelope]


def _minute(rng: random.Random, lo: int, hi: int) -> timedelta:
    return timedelta(minutes=rng.randint(lo, hi))


def _middle(start: datetime, end: datetime) -> datetime:
    return (start + (end - start) / 2).replace(second=0, microsecond=0)


def generate_states(seed: int = 680) -> GeneratedStates:
    rng = random.Random(seed)
    ids = iter(range(1, 10**9))
    factory = EnvelopeFactory("test", ids=lambda: f"st-{next(ids):07d}")
    station_events: list[tuple[datetime, Envelope]] = []
    tx_events: list[tuple[datetime, Envelope]] = []

    def status(station: str, evse: int, name: str, at: datetime) -> None:
        message = st.StatusChanged(evse_id=evse, connector_id=1, status=STATUS[name])  # type: ignore[arg-type]
        station_events.append(
            (at, factory.wrap("station.status_changed", station, message, occurred_at=at))
        )

    def link(station: str, online: bool, at: datetime) -> None:
        if online:
            kind, message = "station.connected", st.StationConnected(gateway_pod="gw-0")
        else:
            kind, message = "station.disconnected", st.StationDisconnected(close_code=1006)  # type: ignore[assignment]
        station_events.append((at, factory.wrap(kind, station, message, occurred_at=at)))

    def transaction(station: str, evse: int, start: datetime, end: datetime, wh: float) -> None:
        tid = f"{station}-{evse}-{int(start.timestamp())}"
        started = tx.TransactionStarted(
            transaction_id=tid, evse_id=evse, connector_id=1, meter_start_wh=1000.0
        )
        started.started_at.FromDatetime(start)
        tx_events.append(
            (start, factory.wrap("transaction.started", station, started, occurred_at=start))
        )
        if station in TWO_X:
            for at, state in ((start, "Charging"), (_middle(start, end), "SuspendedEV")):
                updated = tx.TransactionUpdated(
                    transaction_id=tid, evse_id=evse, connector_id=1, charging_state=state
                )
                updated.timestamp.FromDatetime(at)
                tx_events.append(
                    (at, factory.wrap("transaction.updated", station, updated, occurred_at=at))
                )
        ended = tx.TransactionEnded(
            transaction_id=tid, evse_id=evse, connector_id=1, meter_stop_wh=1000.0 + wh
        )
        ended.ended_at.FromDatetime(end)
        tx_events.append((end, factory.wrap("transaction.ended", station, ended, occurred_at=end)))

    for station in STATIONS:
        at = MONTH_START + _minute(rng, 30, 300)  # unknown before the first connection
        link(station, True, at)
        for evse in (1, 2):
            status(station, evse, "Available", at)
        # station-level happenings: offline spells and station-wide Unavailable
        t = at
        while True:
            t += _minute(rng, 1500, 6000)
            if t >= MONTH_END:
                break
            if rng.random() < 0.6:
                link(station, False, t)
                t += _minute(rng, 5, 600)
                link(station, True, t)
            else:
                status(station, 0, "Unavailable", t)
                t += _minute(rng, 30, 400)
                status(station, 0, "Available", t)
        for evse in (1, 2):
            t = at
            while True:
                t += _minute(rng, 20, 600)
                if t >= MONTH_END + timedelta(hours=6):
                    break
                roll = rng.random()
                if roll < 0.08:
                    status(station, evse, "Faulted", t)
                    t += _minute(rng, 10, 900)
                    status(station, evse, "Available", t)
                    continue
                if roll < 0.12:
                    status(station, evse, "Reserved", t)
                    t += _minute(rng, 5, 30)
                    status(station, evse, "Available", t)
                    continue
                plug = t
                start = plug + _minute(rng, 1, 10)
                end = start + _minute(rng, 20, 240)
                unplug = end + _minute(rng, 0, 120)
                energy = 0.0 if rng.random() < 0.1 else rng.uniform(2000, 60000)
                if station in TWO_X:
                    status(station, evse, "Occupied", plug)
                else:
                    status(station, evse, "Preparing", plug)
                    status(station, evse, "Charging", start)
                    status(station, evse, "SuspendedEV", _middle(start, end))
                    status(station, evse, "Finishing", end)
                transaction(station, evse, start, end, energy)
                status(station, evse, "Available", unplug)
                t = unplug
    ordered = [e for _, e in sorted(station_events, key=lambda p: p[0])]
    ordered_tx = [e for _, e in sorted(tx_events, key=lambda p: p[0])]
    return GeneratedStates(_disorder(rng, factory, ordered), _disorder(rng, factory, ordered_tx))


def _disorder(
    rng: random.Random, factory: EnvelopeFactory, events: list[Envelope]
) -> list[Envelope]:
    """Every 9th event late (at the end), every 17th twice, every 23rd resent under a new id."""
    out: list[Envelope] = []
    late: list[Envelope] = []
    for i, event in enumerate(events):
        (late if i % 9 == 4 else out).append(event)
        if i % 17 == 5:
            out.append(event)
        if i % 23 == 11:
            resent = Envelope()
            resent.CopyFrom(event)
            resent.event_id = factory.ids()
            out.append(resent)
    rng.shuffle(late)
    return out + late


# ---- the plain computation -------------------------------------------------------------

PORTS = [(station, evse) for station in STATIONS for evse in (1, 2)]
#: Minute indexes from here (the reference labels minutes, from well before the month).
ORIGIN = MONTH_START - timedelta(days=3)


def _index(at: datetime) -> int:
    return int((at - ORIGIN).total_seconds() // 60)


def _facts(events: list[Envelope]) -> list[tuple[datetime, str, str, int, str, str, float | None]]:
    """(time, event id, station, evse, kind, value, wh) of every distinct event."""
    seen: set[str] = set()
    out = []
    for e in events:
        if e.event_id in seen:
            continue
        seen.add(e.event_id)
        at = e.occurred_at.ToDatetime(UTC)
        if e.type == "station.connected":
            out.append((at, e.event_id, e.station_id, 0, "link", "online", None))
        elif e.type == "station.disconnected":
            out.append((at, e.event_id, e.station_id, 0, "link", "offline", None))
        elif e.type == "station.status_changed":
            m = st.StatusChanged()
            e.payload.Unpack(m)
            out.append(
                (at, e.event_id, e.station_id, m.evse_id, "status", STATUS_NAME[m.status], None)
            )
        elif e.type == "transaction.started":
            s = tx.TransactionStarted()
            e.payload.Unpack(s)
            out.append(
                (
                    at,
                    e.event_id,
                    e.station_id,
                    s.evse_id,
                    "start:" + s.transaction_id,
                    "",
                    s.meter_start_wh,
                )
            )
        elif e.type == "transaction.updated":
            u = tx.TransactionUpdated()
            e.payload.Unpack(u)
            out.append((at, e.event_id, e.station_id, u.evse_id, "charge", u.charging_state, None))
        else:
            n = tx.TransactionEnded()
            e.payload.Unpack(n)
            out.append(
                (
                    at,
                    e.event_id,
                    e.station_id,
                    n.evse_id,
                    "end:" + n.transaction_id,
                    "",
                    n.meter_stop_wh,
                )
            )
    return sorted(out, key=lambda f: (f[0], f[1]))


@dataclass
class Minutes:
    """Per port, the state of every minute from ORIGIN to STATES_NOW ("" = unknown), and
    the minutes inside transactions that delivered no energy."""

    states: dict[tuple[str, int], list[str]]
    no_energy: dict[tuple[str, int], set[int]]
    status: dict[tuple[str, int], tuple[str, datetime]]


def replay(generated: GeneratedStates) -> Minutes:
    facts = _facts(generated.station_events + generated.transaction_events)
    total = _index(STATES_NOW)
    states: dict[tuple[str, int], list[str]] = {}
    no_energy: dict[tuple[str, int], set[int]] = {}
    status: dict[tuple[str, int], tuple[str, datetime]] = {}
    for port in PORTS:
        station, evse = port
        mine = [f for f in facts if f[2] == station and f[3] in (0, evse)]
        link = wide = own = charge = ""
        current = ""
        out = [""] * total
        j = 0
        changed_at = ORIGIN
        for minute in range(total):
            moment = ORIGIN + timedelta(minutes=minute)
            while j < len(mine) and mine[j][0] <= moment:
                _at, _id, _s, fevse, kind, value, _wh = mine[j]
                if kind == "link":
                    link = value
                elif kind == "status" and fevse == 0:
                    wide = value
                elif kind == "status":
                    own = value
                elif kind == "charge":
                    charge = value
                elif kind.startswith("end:"):
                    charge = ""
                j += 1
            if link == "offline":
                state = "offline"
            elif wide in ("Faulted", "Unavailable"):
                state = wide.lower()
            elif own == "":
                state = ""
            elif own == "Available":
                state = "available"
            elif own == "Charging" or (own == "Occupied" and charge == "Charging"):
                state = "charging"
            elif own in ("Faulted", "Unavailable"):
                state = own.lower()
            else:
                state = "occupied"
            if state != current:
                current, changed_at = state, moment
            out[minute] = state
        states[port] = out
        shown = {"offline": "Offline", "charging": "Charging", "available": "Available"}.get(
            current
        )
        if shown is None:
            shown = wide if wide in ("Faulted", "Unavailable") else own
            if shown not in ("Reserved", "Faulted", "Unavailable"):
                shown = "Occupied"
        status[port] = (shown, changed_at)
        starts = {
            f[4][6:]: (f[0], f[6])
            for f in reversed(mine)
            if f[4].startswith("start:") and f[3] == evse
        }
        ends = {
            f[4][4:]: (f[0], f[6])
            for f in reversed(mine)
            if f[4].startswith("end:") and f[3] == evse
        }
        flat: set[int] = set()
        for tid, (t0, wh0) in starts.items():
            if tid in ends and ends[tid][0] > t0 and (ends[tid][1] or 0) - (wh0 or 0) <= 0:
                flat.update(range(_index(t0), min(_index(ends[tid][0]), total)))
        no_energy[port] = flat
    return Minutes(states, no_energy, status)


def minute_label(minute: int, timezone: str, grain: str) -> str:
    at = ORIGIN + timedelta(minutes=minute)
    if grain == "15m-utc":
        at = at.replace(minute=at.minute // 15 * 15)
        return f"{at:%Y-%m-%dT%H:%M}+00:00"
    local = at.astimezone(ZoneInfo(timezone))
    offset = local.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}"
    if grain == "day":
        return f"{local:%Y-%m-%d}"
    if grain == "month":
        return f"{local:%Y-%m}"
    if grain == "hour":
        return f"{local:%Y-%m-%dT%H}:00{offset}"
    return f"{local:%Y-%m-%dT%H}:{local.minute // 15 * 15:02d}{offset}"


@lru_cache(maxsize=32)
def _labels(timezone: str, grain: str) -> tuple[list[str], dict[str, int]]:
    """Every minute's label on this clock, and the first minute of each label."""
    names = [minute_label(m, timezone, grain) for m in range(_index(STATES_NOW))]
    first: dict[str, int] = {}
    for minute, name in enumerate(names):
        first.setdefault(name, minute)
    return names, first


def reference_utilization(
    minutes: Minutes, ports: list[tuple[str, int]], grain: str, start: datetime, end: datetime
) -> dict[str, dict[str, float]]:
    """Label -> state -> share of the known connector minutes, over each port's buckets
    that begin in [start, end) on its own site's clock."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    lo, hi = _index(start), _index(end)
    for port in ports:
        names, first = _labels(SITES[STATIONS[port[0]]], grain)
        for minute, state in enumerate(minutes.states[port]):
            name = names[minute]
            if state and lo <= first[name] < hi:
                counts[name][state] += 1
    return {
        name: {state: n / sum(by_state.values()) for state, n in by_state.items()}
        for name, by_state in counts.items()
    }


OUT = {"offline": "offline", "faulted": "Faulted", "unavailable": "Unavailable"}


def reference_outages(minutes: Minutes, port: tuple[str, int]) -> list[tuple[int, int, str]]:
    """(first minute, end minute, cause) of each run of one out state, and of each stretch
    without energy flow."""
    runs = []
    states = minutes.states[port]
    minute = 0
    while minute < len(states):
        state = states[minute]
        end = minute
        while end < len(states) and states[end] == state:
            end += 1
        if state in OUT:
            runs.append((minute, end, OUT[state]))
        minute = end
    flat = sorted(minutes.no_energy[port])
    i = 0
    while i < len(flat):
        j = i
        while j + 1 < len(flat) and flat[j + 1] == flat[j] + 1:
            j += 1
        runs.append((flat[i], flat[j] + 1, "no_energy_flow"))
        i = j + 1
    return sorted(runs)


def reference_uptime(
    minutes: Minutes, port: tuple[str, int], excluded: set[int], month_end: datetime
) -> tuple[float, int, int]:
    """(uptime %, outage minutes, excluded outage minutes) over the 12 months ending at
    `month_end` (all the data lies in them)."""
    states = minutes.states[port]
    hi = min(_index(month_end), len(states))
    out = {m for m in range(hi) if states[m] in OUT} | {
        m for m in minutes.no_energy[port] if m < hi
    }
    excluded_out = len(out & excluded)
    return (525_600 - (len(out) - excluded_out)) / 525_600 * 100, len(out), excluded_out
