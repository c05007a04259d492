"""A generated month of charging for a few sites, and the plain computation of its figures.

`generate` writes the events the gateway and billing would: transaction started / updated
(register samples every few minutes, in Wh or kWh) / ended, and one CDR per session, for
sites in Berlin, New York and UTC over March 2026 (both DST changes). Some events come
late (hours after their session), some twice under the same id, some resent under a new id.
`reference_*` compute every figure straight from those raw events, sharing no code with
the service: sort each transaction's readings, take the positive steps, spread each step
evenly over the seconds it spans, sum per 15-minute window and label with zoneinfo.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from chargegrid.api.billing.v1 import billing_pb2 as billing
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as spb
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.platform.bus import EnvelopeFactory

SITES = {"site-berlin": "Europe/Berlin", "site-nyc": "America/New_York", "site-utc": "UTC"}
STATIONS = {
    "CP-B1": "site-berlin",
    "CP-B2": "site-berlin",
    "CP-N1": "site-nyc",
    "CP-U1": "site-utc",
}
MONTH_START = datetime(2026, 3, 1, tzinfo=UTC)
MONTH_END = datetime(2026, 4, 1, tzinfo=UTC)
REGISTER = "Energy.Active.Import.Register"


@dataclass
class Generated:
    """The events in publish order (duplicates and late ones included)."""

    transaction_events: list[Envelope]
    billing_events: list[Envelope]
    session_events: list[Envelope]


def _stamp(message: object, at: datetime) -> None:
    message.FromDatetime(at)  # type: ignore[attr-defined]


def _sample(at: datetime, wh: float, unit: str) -> tx.MeterSample:
    sample = tx.MeterSample(measurand=REGISTER, unit=unit, value=wh / 1000 if unit == "kWh" else wh)
    _stamp(sample.timestamp, at)
    return sample


def generate(seed: int = 16, days: int = 31, sessions_per_day: int = 2) -> Generated:
    rng = random.Random(seed)
    ids = iter(range(1, 10**9))
    factory = EnvelopeFactory("test", ids=lambda: f"ev-{next(ids)}")
    in_order: list[Envelope] = []
    late: list[Envelope] = []
    cdrs: list[Envelope] = []
    closed: list[Envelope] = []
    register = {station: 1_000_000.0 for station in STATIONS}
    for day in range(days):
        for station, site in STATIONS.items():
            for n in range(sessions_per_day):
                evse = 1 + n % 2
                start = MONTH_START + timedelta(
                    days=day, hours=rng.randint(0, 21), minutes=rng.choice([0, 7, 15, 44])
                )
                transaction_id = f"{station}-{day}-{n}"
                events, energy = _session(
                    rng, factory, station, evse, transaction_id, start, register
                )
                register[station] += energy
                closed.append(_closed(rng, factory, station, site, evse, events, energy))
                if rng.random() < 0.1:  # a station that was offline reports hours later
                    late.extend(events[1:-1])
                    events = [events[0], events[-1]]
                in_order.extend(events)
                cdrs.append(_cdr(rng, factory, station, site, transaction_id, start, energy))
    # Sessions through the hour the clocks skip (Berlin 29 March, New York 8 March).
    for station, start in (
        ("CP-B1", datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        ("CP-N1", datetime(2026, 3, 8, 6, 30, tzinfo=UTC)),
    ):
        events, energy = _session(rng, factory, station, 2, f"{station}-dst", start, register)
        register[station] += energy
        in_order.extend(events)
    duplicated = _with_duplicates(rng, factory, in_order + late)
    return Generated(
        duplicated,
        _with_duplicates(rng, factory, cdrs),
        _with_duplicates(rng, factory, closed + _failed_starts(rng, factory, days)),
    )


def _a_session(station: str, site: str, evse: int, transaction_id: str) -> spb.Session:
    return spb.Session(
        id=f"{station}:{transaction_id}",
        station_id=station,
        site_id=site,
        evse_id=evse,
        transaction_id=transaction_id,
        status=spb.SESSION_STATUS_COMPLETED,
    )


def _closed(
    rng: random.Random,
    factory: EnvelopeFactory,
    station: str,
    site: str,
    evse: int,
    events: list[Envelope],
    energy_wh: float,
) -> Envelope:
    started, ended = tx.TransactionStarted(), tx.TransactionEnded()
    events[0].payload.Unpack(started)
    events[-1].payload.Unpack(ended)
    session = _a_session(station, site, evse, started.transaction_id)
    session.id_token.CopyFrom(started.id_token)
    session.started_at.CopyFrom(started.started_at)
    session.ended_at.CopyFrom(ended.ended_at)
    duration = ended.ended_at.seconds - started.started_at.seconds
    session.energy_wh = energy_wh
    session.charging_s = rng.randint(duration // 2, duration)
    at = ended.ended_at.ToDatetime(UTC)
    return factory.wrap(
        "session.closed", station, spb.SessionClosed(session=session), occurred_at=at
    )


def _failed_starts(rng: random.Random, factory: EnvelopeFactory, days: int) -> list[Envelope]:
    """Sessions that never delivered energy (no energy flow), one every other day."""
    out = []
    for day in range(0, days, 2):
        station = rng.choice(list(STATIONS))
        start = MONTH_START + timedelta(days=day, hours=rng.randint(0, 23))
        session = _a_session(station, STATIONS[station], 1, f"{station}-failed-{day}")
        session.id_token.id, session.id_token.type = f"TOKEN-{rng.randint(1, 30)}", "ISO14443"
        _stamp(session.started_at, start)
        _stamp(session.ended_at, start + timedelta(minutes=2))
        closed = spb.SessionClosed(session=session)
        out.append(factory.wrap("session.closed", station, closed, occurred_at=start))
    return out


def _session(
    rng: random.Random,
    factory: EnvelopeFactory,
    station: str,
    evse: int,
    transaction_id: str,
    start: datetime,
    register: dict[str, float],
) -> tuple[list[Envelope], float]:
    unit = rng.choice(["Wh", "kWh"])
    minutes = rng.randint(20, 200)
    power_w = rng.choice([3_700, 7_400, 11_000, 22_000, 50_000])
    wh = register[station]
    started = tx.TransactionStarted(
        transaction_id=transaction_id, evse_id=evse, connector_id=1, meter_start_wh=wh
    )
    started.id_token.id = f"TOKEN-{rng.randint(1, 20)}"
    _stamp(started.started_at, start)
    events = [factory.wrap("transaction.started", station, started, occurred_at=start)]
    at = start
    while True:
        at = at + timedelta(minutes=rng.choice([1, 5, 5, 10, 15]), seconds=rng.randint(0, 59))
        if at >= start + timedelta(minutes=minutes):
            break
        wh += power_w * rng.uniform(0.3, 1.0) * 5 / 60
        updated = tx.TransactionUpdated(
            transaction_id=transaction_id,
            evse_id=evse,
            connector_id=1,
            samples=[_sample(at, wh, unit)],
        )
        _stamp(updated.timestamp, at)
        events.append(factory.wrap("transaction.updated", station, updated, occurred_at=at))
    end = start + timedelta(minutes=minutes)
    wh += power_w * 0.2 * 2 / 60
    ended = tx.TransactionEnded(
        transaction_id=transaction_id, evse_id=evse, connector_id=1, meter_stop_wh=wh
    )
    _stamp(ended.ended_at, end)
    events.append(factory.wrap("transaction.ended", station, ended, occurred_at=end))
    return events, wh - register[station]


def _cdr(
    rng: random.Random,
    factory: EnvelopeFactory,
    station: str,
    site: str,
    transaction_id: str,
    start: datetime,
    energy_wh: float,
) -> Envelope:
    tariff = rng.choice(["AC-STANDARD", "DC-FAST"])
    currency = "USD" if site == "site-nyc" else "EUR"
    excl = (Decimal(str(round(energy_wh / 1000, 3))) * Decimal("0.39")).quantize(Decimal("0.01"))
    incl = (excl * Decimal("1.19")).quantize(Decimal("0.01"))
    cdr = billing.Cdr(
        id=f"cdr-{transaction_id}",
        session_id=transaction_id,
        station_id=station,
        site_id=site,
        energy_kwh=str(round(energy_wh / 1000, 3)),
        timezone=SITES[site],
    )
    cdr.cost.currency, cdr.cost.tariff_id = currency, tariff
    cdr.cost.total_excl_vat, cdr.cost.total_incl_vat = str(excl), str(incl)
    _stamp(cdr.started_at, start)
    return factory.wrap("cdr.created", station, billing.CdrCreated(cdr=cdr), occurred_at=start)


def _with_duplicates(
    rng: random.Random, factory: EnvelopeFactory, events: list[Envelope]
) -> list[Envelope]:
    """Every 20th event again (same id); every 25th resent under a new id."""
    out: list[Envelope] = []
    for i, event in enumerate(events):
        out.append(event)
        if i % 20 == 7:
            out.append(event)
        if i % 25 == 3:
            resent = Envelope()
            resent.CopyFrom(event)
            resent.event_id = factory.ids()
            out.append(resent)
    return out


# ---- the plain computation -------------------------------------------------------------


def _readings(
    events: list[Envelope],
) -> dict[tuple[str, str], dict[tuple[datetime, int], tuple[int, float]]]:
    seen_ids: set[str] = set()
    chains: dict[tuple[str, str], dict[tuple[datetime, int], tuple[int, float]]] = defaultdict(dict)
    for envelope in events:
        if envelope.event_id in seen_ids:
            continue
        seen_ids.add(envelope.event_id)
        found: list[tuple[str, int, datetime, int, float]] = []
        if envelope.type == "transaction.started":
            m = tx.TransactionStarted()
            envelope.payload.Unpack(m)
            found.append(
                (m.transaction_id, m.evse_id, m.started_at.ToDatetime(UTC), 0, m.meter_start_wh)
            )
            samples, tid, evse = m.samples, m.transaction_id, m.evse_id
        elif envelope.type == "transaction.updated":
            u = tx.TransactionUpdated()
            envelope.payload.Unpack(u)
            samples, tid, evse = u.samples, u.transaction_id, u.evse_id
        else:
            e = tx.TransactionEnded()
            envelope.payload.Unpack(e)
            found.append(
                (e.transaction_id, e.evse_id, e.ended_at.ToDatetime(UTC), 2, e.meter_stop_wh)
            )
            samples, tid, evse = e.samples, e.transaction_id, e.evse_id
        for s in samples:
            wh = s.value * (1000 if s.unit == "kWh" else 1)
            found.append((tid, evse, s.timestamp.ToDatetime(UTC), 1, wh))
        for tid, evse, at, rank, wh in found:
            chains[(envelope.station_id, tid)].setdefault((at, rank), (evse, wh))
    return chains


def reference_windows(events: list[Envelope]) -> dict[tuple[str, int, datetime], float]:
    """Wh per (station, EVSE, 15-minute UTC window start)."""
    out: dict[tuple[str, int, datetime], float] = defaultdict(float)
    for (station, _), chain in _readings(events).items():
        ordered = sorted(chain.items())
        for ((t0, _r0), (_e0, wh0)), ((t1, _r1), (evse, wh1)) in pairwise(ordered):
            if wh1 <= wh0:
                continue
            span = (t1 - t0).total_seconds()
            second = t0
            # walk the span window by window
            while second < t1:
                base = second.replace(minute=second.minute // 15 * 15, second=0, microsecond=0)
                upto = min(t1, base + timedelta(minutes=15))
                out[(station, evse, base)] += (wh1 - wh0) * (upto - second).total_seconds() / span
                second = upto
    return dict(out)


def label(at: datetime, site: str, grain: str) -> str:
    local = at.astimezone(ZoneInfo(SITES[site]))
    if grain == "day":
        return local.date().isoformat()
    if grain == "month":
        return f"{local.year:04d}-{local.month:02d}"
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    suffix = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    if grain == "hour":
        return f"{local:%Y-%m-%dT%H}:00{suffix}"
    return f"{local:%Y-%m-%dT%H:%M}{suffix}"


def reference_energy(
    windows: dict[tuple[str, int, datetime], float], site: str, grain: str
) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for (station, _evse, start), wh in windows.items():
        if STATIONS[station] == site:
            out[label(start, site, grain)] += wh
    return dict(out)


def reference_network_energy(
    windows: dict[tuple[str, int, datetime], float], grain: str
) -> dict[str, float]:
    """Every site's energy by its own local label; 15-minute windows labelled in UTC."""
    out: dict[str, float] = defaultdict(float)
    for (station, _evse, start), wh in windows.items():
        if grain == "15m":
            out[f"{start.astimezone(UTC):%Y-%m-%dT%H:%M}+00:00"] += wh
        else:
            out[label(start, STATIONS[station], grain)] += wh
    return dict(out)


def reference_peaks(
    windows: dict[tuple[str, int, datetime], float], grain: str
) -> dict[tuple[str, str], float]:
    per_window: dict[tuple[str, datetime], float] = defaultdict(float)
    for (station, _evse, start), wh in windows.items():
        per_window[(STATIONS[station], start)] += wh
    out: dict[tuple[str, str], float] = {}
    for (site, start), wh in per_window.items():
        key = (site, label(start, site, grain))
        out[key] = max(out.get(key, 0.0), wh * 4)
    return out


def reference_revenue(events: list[Envelope]) -> dict[tuple[str, str, str, str], Decimal]:
    seen: set[str] = set()
    out: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    for envelope in events:
        created = billing.CdrCreated()
        envelope.payload.Unpack(created)
        cdr = created.cdr
        if cdr.id in seen:
            continue
        seen.add(cdr.id)
        day = label(cdr.started_at.ToDatetime(UTC), cdr.site_id, "day")
        out[(cdr.site_id, day, cdr.cost.tariff_id, cdr.cost.currency)] += Decimal(
            cdr.cost.total_incl_vat
        )
    return dict(out)


def _sessions(events: list[Envelope]) -> list[spb.Session]:
    seen: dict[str, spb.Session] = {}
    for envelope in events:
        closed = spb.SessionClosed()
        envelope.payload.Unpack(closed)
        seen.setdefault(closed.session.id, closed.session)
    return list(seen.values())


def reference_session_stats(
    events: list[Envelope], site: str, by: str
) -> dict[str, tuple[int, int, float, float, float]]:
    """(sessions, without energy, Wh, mean duration s, mean idle s) per local day, hour of
    day or weekday."""
    groups: dict[str, list[spb.Session]] = defaultdict(list)
    for session in _sessions(events):
        if session.site_id != site:
            continue
        local = session.started_at.ToDatetime(UTC).astimezone(ZoneInfo(SITES[site]))
        key = {"day": local.date().isoformat(), "hour": f"{local.hour:02d}"}.get(
            by, str(local.isoweekday())
        )
        groups[key].append(session)
    out = {}
    for key, found in groups.items():
        durations = [s.ended_at.seconds - s.started_at.seconds for s in found]
        idle = [d - s.charging_s for d, s in zip(durations, found, strict=True)]
        out[key] = (
            len(found),
            sum(1 for s in found if s.energy_wh <= 0),
            sum(s.energy_wh for s in found),
            sum(durations) / len(found),
            sum(idle) / len(found),
        )
    return out


def reference_users(
    events: list[Envelope], start: datetime, end: datetime
) -> dict[str, tuple[int, float, bool]]:
    """Per token: (sessions started in [start, end), their Wh, charged before start)."""
    sessions = _sessions(events)
    before = {s.id_token.id for s in sessions if s.started_at.ToDatetime(UTC) < start}
    out: dict[str, tuple[int, float, bool]] = {}
    for s in sessions:
        if start <= s.started_at.ToDatetime(UTC) < end:
            n, wh, _ = out.get(s.id_token.id, (0, 0.0, False))
            out[s.id_token.id] = (n + 1, wh + s.energy_wh, s.id_token.id in before)
    return out
