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
    duplicated = _with_duplicates(rng, factory, in_order + late + _refusals(rng, factory, days))
    return Generated(
        duplicated,
        _with_duplicates(rng, factory, cdrs),
        _with_duplicates(rng, factory, closed + _failed_starts(rng, factory, days)),
    )


def token_group_and_source(number: int) -> tuple[str, str]:
    """TOKEN-1..20: 16..20 are a roaming partner's; every third has no group."""
    group = "" if number % 3 == 0 else f"FLEET-{number % 3}"
    return group, "ocpi:DE-ABC" if number > 15 else "local"


def _refusals(rng: random.Random, factory: EnvelopeFactory, days: int) -> list[Envelope]:
    """Tokens refused at a start, about one a day: an Authorize (and some accepted ones, not
    failures), a 1.6 StartTransaction, a token presented inside a 2.x transaction."""
    out = []
    for day in range(days):
        station = rng.choice(list(STATIONS))
        at = MONTH_START + timedelta(days=day, hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
        kind = rng.choice(["authorize", "authorize", "accepted", "start", "update"])
        token = tx.IdToken(id=f"STRANGER-{rng.randint(1, 5)}", type="ISO14443")
        status = "Accepted" if kind == "accepted" else rng.choice(["Invalid", "Blocked"])
        if kind in ("authorize", "accepted"):
            asked = tx.TokenAuthorized(id_token=token, authorization_status=status)
            out.append(factory.wrap("transaction.authorized", station, asked, occurred_at=at))
        elif kind == "start":
            started = tx.TransactionStarted(
                transaction_id=f"{station}-refused-{day}",
                evse_id=1,
                connector_id=1,
                id_token=token,
                authorization_status=status,
                meter_start_wh=0.0,
            )
            _stamp(started.started_at, at)
            out.append(factory.wrap("transaction.started", station, started, occurred_at=at))
        else:
            updated = tx.TransactionUpdated(
                transaction_id=f"{station}-plugged-{day}",
                evse_id=2,
                connector_id=1,
                id_token=token,
                authorization_status=status,
            )
            _stamp(updated.timestamp, at)
            out.append(factory.wrap("transaction.updated", station, updated, occurred_at=at))
    return out


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
    number = rng.randint(1, 20)
    started.id_token.id = f"TOKEN-{number}"
    started.authorization_status = "Accepted"
    started.group_id, started.token_source = token_group_and_source(number)
    _stamp(started.started_at, start)
    events = [factory.wrap("transaction.started", station, started, occurred_at=start)]
    at = start
    if rng.random() < 0.5:  # plugged in, the car not drawing yet: time to start
        at = start + timedelta(minutes=rng.randint(1, 6), seconds=rng.randint(0, 59))
        waiting = tx.TransactionUpdated(
            transaction_id=transaction_id,
            evse_id=evse,
            connector_id=1,
            samples=[_sample(at, wh, unit)],
        )
        _stamp(waiting.timestamp, at)
        events.append(factory.wrap("transaction.updated", station, waiting, occurred_at=at))
    while True:
        following = at + timedelta(
            minutes=rng.choice([1, 5, 5, 10, 15]), seconds=rng.randint(0, 59)
        )
        if following >= start + timedelta(minutes=minutes):
            break
        at = following
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
    if rng.random() < 0.5:  # charged, then left plugged in: idle after charging
        full_at = at + timedelta(seconds=(end - at).total_seconds() // 2)
        full = tx.TransactionUpdated(
            transaction_id=transaction_id,
            evse_id=evse,
            connector_id=1,
            samples=[_sample(full_at, wh, unit)],
        )
        _stamp(full.timestamp, full_at)
        events.append(factory.wrap("transaction.updated", station, full, occurred_at=full_at))
        end += timedelta(minutes=rng.randint(5, 90))
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
        if envelope.type == "transaction.authorized":
            continue
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


def _bucket(at: datetime, site: str, by: str) -> str:
    local = at.astimezone(ZoneInfo(SITES[site]))
    return {"day": local.date().isoformat(), "hour": f"{local.hour:02d}"}.get(
        by, str(local.isoweekday())
    )


def _refused(transaction_events: list[Envelope]) -> list[tuple[str, int, datetime]]:
    """(station, EVSE, when) of every token refused at a start, once per event id."""
    seen: set[str] = set()
    out = []
    for envelope in transaction_events:
        if envelope.event_id in seen:
            continue
        seen.add(envelope.event_id)
        if envelope.type == "transaction.authorized":
            a = tx.TokenAuthorized()
            envelope.payload.Unpack(a)
            status, evse, at = a.authorization_status, a.evse_id, envelope.occurred_at
        elif envelope.type == "transaction.started":
            s = tx.TransactionStarted()
            envelope.payload.Unpack(s)
            status, evse, at = s.authorization_status, s.evse_id, s.started_at
        elif envelope.type == "transaction.updated":
            u = tx.TransactionUpdated()
            envelope.payload.Unpack(u)
            if not u.id_token.id:
                continue
            status, evse, at = u.authorization_status, u.evse_id, u.timestamp
        else:
            continue
        if status not in ("", "Accepted"):
            out.append((envelope.station_id, evse, at.ToDatetime(UTC)))
    return out


def _flow(chain: dict[tuple[datetime, int], tuple[int, float]]) -> tuple[datetime, datetime] | None:
    """The start of the first rise of the register and the end of the last."""
    steps = [
        (t0, t1)
        for ((t0, _), (_, wh0)), ((t1, _), (_, wh1)) in pairwise(sorted(chain.items()))
        if wh1 > wh0 + 1e-3  # a kWh sample read back in Wh is a float off: no flow
    ]
    return (steps[0][0], steps[-1][1]) if steps else None


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def reference_session_stats(
    session_events: list[Envelope],
    transaction_events: list[Envelope],
    site: str,
    by: str,
    station: str = "",
) -> dict[str, tuple[int, int, int, int, float, float, float, float, float]]:
    """(sessions, failed starts, without energy, refused tokens, Wh, mean duration s, mean
    idle s, mean time to start s, mean idle after charging s) per local day, hour of day or
    weekday, of a site (or one of its stations)."""
    groups: dict[str, list[spb.Session]] = defaultdict(list)
    for session in _sessions(session_events):
        if session.site_id != site or station not in ("", session.station_id):
            continue
        groups[_bucket(session.started_at.ToDatetime(UTC), site, by)].append(session)
    refused: dict[str, int] = defaultdict(int)
    for where, _evse, at in _refused(transaction_events):
        if STATIONS[where] == site and station in ("", where):
            refused[_bucket(at, site, by)] += 1
    chains = _readings(transaction_events)
    out = {}
    for key in set(groups) | set(refused):
        found = groups.get(key, [])
        durations = [s.ended_at.seconds - s.started_at.seconds for s in found]
        idle = [d - s.charging_s for d, s in zip(durations, found, strict=True)]
        to_start, idle_after = [], []
        for s in found:
            flow = _flow(chains.get((s.station_id, s.transaction_id), {}))
            if s.energy_wh > 0 and flow is not None:
                to_start.append((flow[0] - s.started_at.ToDatetime(UTC)).total_seconds())
                idle_after.append((s.ended_at.ToDatetime(UTC) - flow[1]).total_seconds())
        no_energy = sum(1 for s in found if s.energy_wh <= 0)
        out[key] = (
            len(found),
            no_energy + refused[key],
            no_energy,
            refused[key],
            sum(s.energy_wh for s in found),
            _mean([float(d) for d in durations]),
            _mean([float(i) for i in idle]),
            _mean(to_start),
            _mean(idle_after),
        )
    return out


def _decisions(transaction_events: list[Envelope]) -> dict[str, tuple[str, str]]:
    """Session id -> (group, source) of the first accepted token its transaction carried."""
    out: dict[str, tuple[str, str]] = {}
    for envelope in transaction_events:
        if envelope.type != "transaction.started":
            continue
        s = tx.TransactionStarted()
        envelope.payload.Unpack(s)
        if s.authorization_status == "Accepted" and s.id_token.id:
            out.setdefault(
                f"{envelope.station_id}:{s.transaction_id}", (s.group_id, s.token_source)
            )
    return out


@dataclass(frozen=True)
class User:
    sessions: int
    energy_wh: float
    returning: bool
    group_id: str
    token_source: str


def reference_users(
    session_events: list[Envelope],
    transaction_events: list[Envelope],
    start: datetime,
    end: datetime,
) -> dict[str, User]:
    """Per token: sessions started in [start, end), their Wh, whether it charged before
    start, and the (greatest) group and source its sessions were authorized with."""
    sessions = _sessions(session_events)
    decided = _decisions(transaction_events)
    before = {s.id_token.id for s in sessions if s.started_at.ToDatetime(UTC) < start}
    found: dict[str, list[spb.Session]] = defaultdict(list)
    for s in sessions:
        if start <= s.started_at.ToDatetime(UTC) < end:
            found[s.id_token.id].append(s)
    out = {}
    for token, mine in found.items():
        known = [decided[s.id] for s in mine if s.id in decided]
        out[token] = User(
            len(mine),
            sum(s.energy_wh for s in mine),
            token in before,
            max((g for g, _ in known), default=""),
            max((src for _, src in known), default=""),
        )
    return out


def reference_groups(users: dict[str, User]) -> dict[str, tuple[int, int, float, int]]:
    """Per token group: (tokens, sessions, Wh, returning tokens)."""
    out: dict[str, tuple[int, int, float, int]] = {}
    for user in users.values():
        tokens, n, wh, returning = out.get(user.group_id, (0, 0, 0.0, 0))
        out[user.group_id] = (
            tokens + 1,
            n + user.sessions,
            wh + user.energy_wh,
            returning + user.returning,
        )
    return out
