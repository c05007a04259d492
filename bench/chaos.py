"""The chaos suite (`make chaos`): SIGKILLs under a steady charging load, then a reconciliation.

A `chargegrid dev` stack (durable broker, SQLite, its own port offset and a temp var dir) and
simulated stations (libs/simulator, 1.6 and 2.0.1 alternating) that charge one session after
another. Each round SIGKILLs every kind once (session, billing, authorization, stations,
gateway, broker), in a random order, each at a random moment; the dev supervisor restarts it
and the stations reconnect and retry as real ones do. Then the load stops, the stack settles
and every transaction a station had acknowledged from start to end is reconciled against the
session and billing services (tests/e2e/reconcile.py). Prints JSON; exit code 1 on any loss,
doubling or energy mismatch.

Settings (environment): CHAOS_ROUNDS (20: 20 kills of each kind), CHAOS_STATIONS (6),
CHAOS_SEED (random; printed so a run can be repeated), CHAOS_KEEP=1 keeps the temp dir.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chargegrid.simulator import SIMULATOR_ID_TAGS, EVSpec, Station, StationConfig, create_station
from tests.e2e.conftest import Stack
from tests.e2e.reconcile import Done, Reconciliation, reconcile
from tests.e2e.test_lost_transactions_through_the_stack import Services

KINDS = ("session", "billing", "authorization", "stations", "gateway", "broker")


@dataclass(frozen=True)
class ChaosSettings:
    rounds: int = 20
    stations: int = 6
    seed: int = 0
    #: Seconds between two kills (uniform), after the previous victim is back.
    pause_s: tuple[float, float] = (2.0, 8.0)
    #: Seconds a station charges before its driver stops (uniform).
    charge_s: tuple[float, float] = (1.0, 4.0)
    settle_timeout_s: float = 240.0

    @classmethod
    def from_env(cls) -> ChaosSettings:
        def number(name: str, default: int) -> int:
            raw = os.environ.get(name, "")
            try:
                value = int(raw) if raw else default
            except ValueError:
                raise SystemExit(f"{name}={raw!r}: not a whole number") from None
            if value < (0 if name == "CHAOS_SEED" else 1):
                raise SystemExit(f"{name}={raw!r}: out of range")
            return value

        return cls(
            rounds=number("CHAOS_ROUNDS", 20),
            stations=number("CHAOS_STATIONS", 6),
            seed=number("CHAOS_SEED", random.randrange(1 << 31)),
        )


@dataclass
class Kill:
    kind: str
    at: float  # time.monotonic()
    back_after_s: float | None  # until the supervisor had a new process running


@dataclass
class Load:
    """What the stations saw: transactions acknowledged end to end, and the rest."""

    done: list[Done] = field(default_factory=list)
    unended: dict[str, set[str]] = field(default_factory=dict)  # station -> transaction ids
    not_started: int = 0
    warm_at: int = 1  # `warm` is set once this many transactions are done
    warm: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, done: Done) -> None:
        self.done.append(done)
        if len(self.done) >= self.warm_at:
            self.warm.set()


def reported_energy(version: str, start_wh: float, stop_wh: float) -> float:
    """The energy the station's frames carry: 1.6 whole Wh, 2.x one decimal."""
    if version == "1.6":
        return float(round(stop_wh) - round(start_wh))
    return round(round(stop_wh, 1) - round(start_wh, 1), 1)


async def drive(
    station: Station,
    version: str,
    tag: str,
    settings: ChaosSettings,
    rng: random.Random,
    load: Load,
    stop: asyncio.Event,
) -> None:
    """One driver after another plugs in, charges a while and stops, until `stop`."""
    unended = load.unended.setdefault(station.station_id, set())
    while not stop.is_set():
        session = station.plug_in(1, ev=EVSpec(capacity_kwh=200, initial_soc_percent=5), id_tag=tag)
        started_at = time.monotonic()
        started = asyncio.ensure_future(session.transaction_started.wait())
        finished = asyncio.ensure_future(session.finished.wait())
        await asyncio.wait({started, finished}, return_when=asyncio.FIRST_COMPLETED)
        started.cancel()
        if not session.transaction_started.is_set():
            load.not_started += 1  # refused or never answered: no transaction
            await finished
            await asyncio.sleep(1)
            continue
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.uniform(*settings.charge_s))
        session.request_stop()
        await finished
        assert session.transaction_id is not None
        if session.transaction_ended.is_set() and session.meter_stop_wh is not None:
            energy = reported_energy(version, session.meter_start_wh, session.meter_stop_wh)
            load.add(
                Done(
                    station.station_id, session.transaction_id, energy, started_at, time.monotonic()
                )
            )
        else:
            unended.add(session.transaction_id)
        await asyncio.sleep(rng.uniform(0.2, 1.0))


def victim_pid(stack: Stack, kind: str) -> int | None:
    try:
        return stack.broker_pid() if kind == "broker" else stack.service_pid(kind)
    except AssertionError:  # between two processes: the supervisor is restarting it
        return None


async def kill_and_wait(stack: Stack, kind: str, timeout_s: float = 180) -> Kill:
    """SIGKILL `kind`'s process and wait until the supervisor runs a new one (the process
    table is read in a thread: `ps` on a loaded machine must not stall the stations)."""
    deadline = time.monotonic() + timeout_s
    while (old := await asyncio.to_thread(victim_pid, stack, kind)) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no {kind} process to kill")
        await asyncio.sleep(0.5)
    os.kill(old, signal.SIGKILL)
    at = time.monotonic()
    while time.monotonic() < at + timeout_s:
        pid = await asyncio.to_thread(victim_pid, stack, kind)
        if pid is not None and pid != old:
            return Kill(kind, at, round(time.monotonic() - at, 2))
        await asyncio.sleep(0.25)
    return Kill(kind, at, None)


def attribute(result: Reconciliation, done: list[Done], kills: list[Kill]) -> None:
    """Name, for each finding, the kills around its transaction (from 5 s before its start to
    30 s after its end: events a service had not yet consumed or committed)."""
    spans = {(d.station_id, d.transaction_id): (d.started_at, d.ended_at) for d in done}
    for finding in result.findings:
        start, end = spans.get((finding.station_id, finding.transaction_id), (0.0, float("inf")))
        finding.kills = sorted({k.kind for k in kills if start - 5 <= k.at <= end + 30})


#: Called with the services and the load before the stack stops (tests probe the checks).
Probe = Callable[[Services, Load], Awaitable[None]]


async def warmed_up(load: Load, timeout_s: float = 120) -> None:
    """Wait until the load runs (each station done once), so the first kill hits traffic."""
    with suppress(TimeoutError):
        await asyncio.wait_for(load.warm.wait(), timeout_s)


async def run_chaos(
    settings: ChaosSettings, workdir: Path, probe: Probe | None = None
) -> dict[str, Any]:
    rng = random.Random(settings.seed)
    began = time.monotonic()
    stack = Stack(workdir, env={"CHARGEGRID_BROKER_STORAGE": "durable"})
    stations: list[tuple[Station, str]] = []
    services: Services | None = None
    kills: list[Kill] = []
    load = Load(warm_at=settings.stations)
    try:
        await asyncio.to_thread(stack.wait_for_output, "admin API token", 240)
        await asyncio.to_thread(stack.wait_for_output, "simulator id tokens", 120)
        services = Services(stack)
        prefix = f"CHAOS{settings.seed % 100000:05d}"
        for n in range(settings.stations):
            version = "1.6" if n % 2 == 0 else "2.0.1"
            config = StationConfig(
                station_id=f"{prefix}-{n + 1:02d}",
                meter_interval_s=2,
                time_scale=60,
                reconnect_max_s=10,
                response_timeout_s=15,
            )
            station = create_station(version, config, stack.ocpp_url)
            await station.start()
            stations.append((station, version))
        for station, _ in stations:
            await station.wait_registered(60)
        stop = asyncio.Event()
        tags = SIMULATOR_ID_TAGS[: len(stations)]
        drivers = [
            asyncio.create_task(drive(s, v, tag, settings, rng, load, stop))
            for (s, v), tag in zip(stations, tags, strict=True)
        ]
        await warmed_up(load)
        for round_no in range(settings.rounds):
            order = list(KINDS)
            rng.shuffle(order)
            for kind in order:
                await asyncio.sleep(rng.uniform(*settings.pause_s))
                kills.append(await kill_and_wait(stack, kind))
                print(
                    f"round {round_no + 1}/{settings.rounds}: killed {kind}, "
                    f"{len(load.done)} transactions so far",
                    file=sys.stderr,
                )
        await asyncio.sleep(settings.pause_s[1])  # the last victim's recovery under load
        stop.set()
        await asyncio.wait_for(asyncio.gather(*drivers), 180)
        result = await reconcile(
            services, load.done, settings.settle_timeout_s, idle_stations=load.unended
        )
        attribute(result, load.done, kills)
        if probe is not None:
            await probe(services, load)
    finally:
        for station, _ in stations:
            with suppress(Exception):
                await station.stop()
        if services is not None:
            await services.close()
        stack.stop()
    return report(settings, result, load, kills, stack.output(), time.monotonic() - began)


def report(
    settings: ChaosSettings,
    result: Reconciliation,
    load: Load,
    kills: list[Kill],
    output: str,
    wall_s: float,
) -> dict[str, Any]:
    by_kill: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
    for finding in result.findings:
        for kind in finding.kills or ["none"]:
            by_kill.setdefault(kind, Counter())[finding.problem] += 1
    back = {
        kind: [k.back_after_s for k in kills if k.kind == kind and k.back_after_s is not None]
        for kind in KINDS
    }
    return {
        "kills": dict(Counter(k.kind for k in kills)),
        "transactions": result.transactions,
        "lost": result.lost,
        "doubled": result.doubled,
        "energy_mismatch": result.energy_mismatch,
        "still_active": result.still_active,
        "by_kill": {kind: dict(c) for kind, c in by_kill.items()},
        "findings": result.describe(),
        "station_side": {
            "starts_not_acknowledged": load.not_started,
            "ends_not_acknowledged": sum(len(s) for s in load.unended.values()),
        },
        "restart_s_median": {
            kind: round(statistics.median(v), 2) if v else None for kind, v in back.items()
        },
        "not_restarted": sum(1 for k in kills if k.back_after_s is None),
        "supervisor_saw_sigkill": output.count("exited with code -9"),
        "settings": {
            "rounds": settings.rounds,
            "stations": settings.stations,
            "seed": settings.seed,
        },
        "wall_s": round(wall_s, 1),
    }


def failed(figures: dict[str, Any]) -> bool:
    return bool(
        figures["lost"]
        or figures["doubled"]
        or figures["energy_mismatch"]
        or figures["still_active"]
    )


def main() -> int:
    settings = ChaosSettings.from_env()
    workdir = Path(tempfile.mkdtemp(prefix="chargegrid-chaos-"))
    try:
        figures = asyncio.run(run_chaos(settings, workdir))
    finally:
        if os.environ.get("CHAOS_KEEP") == "1":
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(figures, indent=2))
    return 1 if failed(figures) else 0


if __name__ == "__main__":
    sys.exit(main())
