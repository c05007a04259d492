"""The per-site controller: at every change it allocates, plans a safe transition and
sends the profiles, checking each answer.

One rebalance at a time per site (a lock). A rebalance reads the site from the database
(circuits, limits, charging EVSEs, DR events), asks the allocator for targets, and walks the
transition plan: lowers first, all at once; raises only after the lowered stations have
accepted, as the planner decides. A station that rejects, does not answer within
`profile_timeout_s` or is offline becomes stale: the allocator counts it at what it may draw
anyway (its max, or the default profile it confirmed), and the site is allocated again
around it. A stale station is retried at the periodic rebalance (once its failure is
`rebalance_interval_s` old, at once when it reconnects), at the draw it is counted at, beside
the other steps: that retry changes no exposure, so it holds back no raise. Safety state
(what each EVSE accepted / has pending) lives in memory; a new controller starts from nothing
confirmed, which counts every EVSE at its maximum until its station confirms a profile: safe,
only less generous for a moment.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.gateway.v1 import station_control_pb2 as gw
from chargegrid.energy import demand, metrics, profiles, site_model
from chargegrid.energy.allocation import (
    Allocation,
    Direction,
    Evse,
    EvseKey,
    LimitStep,
    PolicyName,
    SitePolicy,
    StaleReason,
    Topology,
    allocate,
    mark_accepted,
    mark_reconnected,
    mark_sent,
    mark_stale,
    safe_fallback_limits,
    worst_case_load,
)
from chargegrid.energy.directory import Directory, DirectoryUnavailable, StationInfo
from chargegrid.energy.events_out import allocation_changed, profile_applied, profile_rejected
from chargegrid.energy.gateway import Outcome, ProfileResult, StationControl
from chargegrid.energy.history import record
from chargegrid.energy.models import StationSettingsRow
from chargegrid.energy.planning import plan_site
from chargegrid.energy.publisher import Publisher
from chargegrid.energy.settings import EnergySettings
from chargegrid.energy.snapshot import Charging, SiteSnapshot, measured_load
from chargegrid.energy.store import SiteRows, load_site
from chargegrid.platform.logging import get_logger

#: Allocate / send rounds per rebalance (a failure re-allocates around the stale station).
MAX_ROUNDS = 4
#: A composite schedule this much above the limit sent does not confirm it (rounding aside).
COMPOSITE_TOLERANCE_A = 0.1
STALE_FOR = {
    Outcome.REJECTED: StaleReason.REJECTED,
    Outcome.TIMEOUT: StaleReason.NO_ANSWER,
    Outcome.OFFLINE: StaleReason.OFFLINE,
}

#: A raise smaller than this is not sent (a draw jittering around a share would otherwise
#: earn its station a new profile every few seconds); lowerings always are.
MIN_RAISE_A = 1.0

log = get_logger(__name__)


def _worth(step: LimitStep) -> bool:
    """False for a raise of less than MIN_RAISE_A over what the station accepted: keeping
    the lower limit it has is always safe."""
    if step.direction is not Direction.RAISE or step.previous_a is None:
        return True
    return step.limit_a - step.previous_a >= MIN_RAISE_A


class SiteUnknown(Exception):
    """The stations service has no such site."""


@dataclass
class ControllerDeps:
    sessions: async_sessionmaker[AsyncSession]
    directory: Directory
    control: StationControl
    publisher: Publisher
    clock: Callable[[], datetime]
    settings: EnergySettings

    @property
    def defaults(self) -> site_model.StationDefaults:
        s = self.settings
        return site_model.StationDefaults(
            s.default_max_current_a,
            s.default_min_current_a,
            s.default_phases,
            s.default_offline_fallback_a,
            s.nominal_voltage_v,
        )


class SiteController:
    def __init__(self, site_id: str, deps: ControllerDeps) -> None:
        self.site_id = site_id
        self.deps = deps
        self.safety: dict[EvseKey, site_model.Safety] = {}
        #: Default-profile limit each station confirmed (what it keeps to offline).
        self.fallbacks: dict[str, float] = {}
        self.needs_defaults: set[str] = set()
        self._defaults_tried: set[str] = set()
        #: When each EVSE's last profile failed: a stale one is retried once this is a
        #: rebalance interval old (the periodic rebalance), not at every meter value.
        self._failed_at: dict[EvseKey, datetime] = {}
        self.snapshot: SiteSnapshot | None = None
        self._targets: dict[EvseKey, float] = {}
        self._triggers: list[str] = []
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._changed = asyncio.Condition()
        self._next_boundary: datetime | None = None

    # Waking -------------------------------------------------------------------------------

    def wake(self, trigger: str, station_id: str = "", *, boot: bool = False) -> None:
        self._triggers.append(trigger)
        if boot and station_id:
            self.needs_defaults.add(station_id)
        self._wake.set()

    def _timeout(self) -> float:
        timeout = self.deps.settings.rebalance_interval_s
        if self._next_boundary is not None:
            until = (self._next_boundary - self.deps.clock()).total_seconds()
            timeout = min(timeout, max(until, 0.0))
        return timeout

    async def run(self) -> None:
        """The site's control loop (run by its leader only)."""
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self._timeout())
                if self.deps.settings.debounce_s:
                    await asyncio.sleep(self.deps.settings.debounce_s)
            except TimeoutError:
                self._triggers.append("periodic")
            self._wake.clear()
            triggers, self._triggers = self._triggers, []
            trigger = ", ".join(dict.fromkeys(triggers)) or "periodic"
            try:
                await self.rebalance(trigger)
            except Exception as exc:  # the loop must outlive any one failure
                log.warning("rebalance failed", site_id=self.site_id, error=repr(exc))
                await asyncio.sleep(1.0)

    def _newer_than(self, seen: SiteSnapshot | None) -> bool:
        return self.snapshot is not seen

    async def changes(self) -> AsyncIterator[SiteSnapshot]:
        """Every new snapshot (WatchSiteLoad)."""
        last: SiteSnapshot | None = None
        while True:
            async with self._changed:
                await self._changed.wait_for(partial(self._newer_than, last))
                last = self.snapshot
            if last is not None:
                yield last

    # Rebalancing --------------------------------------------------------------------------

    async def rebalance(self, trigger: str, *, apply: bool = True) -> SiteSnapshot:
        async with self._lock:
            snapshot = await self._rebalance(trigger, apply)
        async with self._changed:
            self.snapshot = snapshot
            self._changed.notify_all()
        return snapshot

    async def _rebalance(self, trigger: str, apply: bool) -> SiteSnapshot:
        started = asyncio.get_running_loop().time()
        deps = self.deps
        now = deps.clock()
        site = await deps.directory.site(self.site_id)
        if site is None:
            raise SiteUnknown(f"site {self.site_id!r} is not known to the stations service")
        registered = await self._registered()
        async with deps.sessions() as session, session.begin():
            rows = await load_site(session, self.site_id, set(registered))
            moved = demand.advance(rows.demand_responses, now) if apply else []
        for kind, row in moved:
            await deps.publisher.publish(kind, demand.changed_event(row))
            trigger = f"{trigger}, {kind.replace('_', ' ')}"
        self._next_boundary = site_model.next_boundary(rows.demand_responses, now)
        active_dr = site_model.active_demand_response(rows.demand_responses, now)
        operator_a = rows.settings.operator_limit_a if rows.settings else 0.0
        limit = site_model.effective_limit(
            site.grid_limit_a,
            site.grid_phases,
            operator_a,
            active_dr,
            deps.settings.nominal_voltage_v,
        )
        topology = site_model.topology(self.site_id, limit, rows.circuits)
        evses = await self._evses(rows, topology, registered, now)
        if apply and await self._send_defaults(rows, topology, evses):
            evses = await self._evses(rows, topology, registered, now)
        policy = SitePolicy(
            name=PolicyName(rows.settings.policy if rows.settings else PolicyName.FAIR),
            voltage_v=deps.settings.nominal_voltage_v,
        )
        allocation = allocate(topology, evses, policy, now)
        if apply:
            evses, allocation = await self._apply(topology, evses, allocation, policy, rows)
        snapshot = SiteSnapshot(
            site_id=self.site_id,
            policy=policy.name,
            grid_limit_a=site.grid_limit_a,
            operator_limit_a=operator_a,
            effective_limit_a=limit,
            demand_response_id=active_dr.id if active_dr else "",
            topology=topology,
            evses=tuple(evses),
            allocation=allocation,
            worst_case_a=worst_case_load(topology, evses),
            measured_a=measured_load(topology, evses),
            charging={
                EvseKey(r.station_id, r.evse_id): Charging(r.transaction_id, r.group_id)
                for r in rows.charging
            },
            computed_at=now,
            applied=apply,
        )
        if apply:
            await self._report(snapshot, trigger)
        metrics.REBALANCE_SECONDS.observe(asyncio.get_running_loop().time() - started)
        return snapshot

    async def _registered(self) -> dict[str, StationInfo]:
        """The site's stations in the registry ({} while it cannot be asked: then only the
        charging EVSEs are counted)."""
        try:
            return {s.station_id: s for s in await self.deps.directory.stations_of(self.site_id)}
        except DirectoryUnavailable:
            return {}

    def _idle(
        self,
        rows: SiteRows,
        topology: Topology,
        registered: dict[str, StationInfo],
        charging: set[EvseKey],
        now: datetime,
    ) -> list[Evse]:
        """EVSEs of the site's stations without a transaction, counted at their default
        profile; a station never seen online and without one is not counted (nothing
        could reach it)."""
        known_nodes = {node.id for node in topology.nodes}
        found: list[Evse] = []
        for station_id, info in sorted(registered.items()):
            state = rows.states.get(station_id)
            fallback = self.fallbacks.get(station_id)
            if fallback is None and (state is None or not state.online):
                continue
            for evse_id in sorted(info.evse_max_current_a) or [1]:
                key = EvseKey(station_id, evse_id)
                if key in charging:
                    continue
                found.append(
                    site_model.idle_evse(
                        key,
                        rows.stations.get(station_id),
                        self.deps.defaults,
                        info.evse_max_current_a.get(evse_id, 0.0),
                        known_nodes,
                        fallback,
                        now,
                    )
                )
        return found

    async def _evses(
        self,
        rows: SiteRows,
        topology: Topology,
        registered: dict[str, StationInfo],
        now: datetime,
    ) -> list[Evse]:
        known_nodes = {node.id for node in topology.nodes}
        charging_keys = {EvseKey(r.station_id, r.evse_id) for r in rows.charging}
        for key in list(self.safety):
            if key not in charging_keys:
                del self.safety[key]
                self._failed_at.pop(key, None)
        evses: list[Evse] = []
        for row in rows.charging:
            key = EvseKey(row.station_id, row.evse_id)
            safety = self.safety.get(key)
            fallback = self.fallbacks.get(row.station_id)
            if safety is None or safety.transaction_id != row.transaction_id:
                safety = site_model.Safety(row.transaction_id, accepted_a=fallback)
                self.safety[key] = safety
            info = await self._station_info(row.station_id)
            rated = info.evse_max_current_a.get(row.evse_id, 0.0) if info else 0.0
            evse = site_model.evse(
                row,
                rows.stations.get(row.station_id),
                rows.priorities.get(row.group_id) if row.group_id else None,
                safety,
                self.deps.defaults,
                rated,
                known_nodes,
                fallback,
            )
            state = rows.states.get(row.station_id)
            if state is not None and not state.online and evse.stale is not StaleReason.OFFLINE:
                evse = mark_stale(evse, StaleReason.OFFLINE)
            elif (state is None or state.online) and evse.stale is StaleReason.OFFLINE:
                evse = mark_reconnected(evse)
                self._failed_at.pop(key, None)  # back: offer it a profile at once
            evses.append(self._remember(evse, row.transaction_id))
        return evses + self._idle(rows, topology, registered, charging_keys, now)

    async def _station_info(self, station_id: str) -> StationInfo | None:
        try:
            return await self.deps.directory.station(station_id)
        except Exception:  # the registry is not needed to keep a site safe
            return None

    async def _apply(
        self,
        topology: Topology,
        evses: list[Evse],
        allocation: Allocation,
        policy: SitePolicy,
        rows: SiteRows,
    ) -> tuple[list[Evse], Allocation]:
        transactions = {EvseKey(r.station_id, r.evse_id): r.transaction_id for r in rows.charging}
        confirming = {sid for sid, settings in rows.stations.items() if settings.confirm_composite}
        retried: set[EvseKey] = set()
        for _ in range(MAX_ROUNDS):
            site_plan = plan_site(topology, evses, allocation)
            plan = site_plan.plan
            # A stale station is retried at most once per rebalance, once its failure is a
            # rebalance interval old; the retry goes out alongside the other steps.
            retries = [s for s in site_plan.retries if s.key not in retried and self._due(s.key)]
            retried.update(s.key for s in retries)
            # Idle EVSEs have no transaction to profile: their default profile bounds them.
            # A small raise is not worth a profile; a retry of a stale station always is.
            steps = [s for s in plan.lower or plan.raise_now if _worth(s)] + retries
            batch = [s for s in steps if s.key in transactions]
            if not batch:
                break
            by_key = {e.key: e for e in evses}
            results = await asyncio.gather(
                *(
                    self._send(
                        step,
                        by_key[step.key],
                        transactions[step.key],
                        confirm=step.key.station_id in confirming,
                    )
                    for step in batch
                )
            )
            for evse in results:
                by_key[evse.key] = evse
            evses = [by_key[e.key] for e in evses]
            if any(e.stale is not None for e in results):
                allocation = allocate(topology, evses, policy, self.deps.clock())
        return evses, allocation

    def _due(self, key: EvseKey) -> bool:
        failed = self._failed_at.get(key)
        if failed is None:
            return True
        elapsed = (self.deps.clock() - failed).total_seconds()
        return elapsed >= self.deps.settings.rebalance_interval_s

    async def _send(
        self, step: LimitStep, evse: Evse, transaction_id: str, *, confirm: bool = False
    ) -> Evse:
        if evse.stale is StaleReason.OFFLINE:
            return evse
        evse = self._remember(mark_sent(evse, step.limit_a), transaction_id, profiled=True)
        profile = profiles.tx_profile(evse.key.evse_id, transaction_id, step.limit_a)
        result = await self._call(evse.key.station_id, evse.key.evse_id, profile)
        shown: float | None = None
        if result.accepted and confirm:
            shown = await self._composite_limit_a(evse.key)
            if shown is None or shown > step.limit_a + COMPOSITE_TOLERANCE_A:
                # Accepted, but not shown in force: as good as unanswered.
                what = "no composite schedule" if shown is None else f"{shown:g} A in force"
                result = ProfileResult(Outcome.TIMEOUT, "NOT_CONFIRMED", what)
        if result.accepted:
            evse = mark_accepted(evse, step.limit_a)
            metrics.PROFILES.labels("accepted").inc()
            await self.deps.publisher.publish(
                "profile_applied",
                profile_applied(self.site_id, evse.key.evse_id, step.limit_a, profile, "tx"),
                evse.key.station_id,
            )
        else:
            evse = mark_stale(evse, STALE_FOR[result.outcome])
            if shown is not None and evse.accepted_a is not None:
                # What the station showed in force counts too, if it is higher still.
                evse = dataclasses.replace(evse, accepted_a=max(evse.accepted_a, shown))
            metrics.PROFILES.labels(result.outcome.value).inc()
            log.warning(
                "profile not accepted",
                station_id=evse.key.station_id,
                evse_id=evse.key.evse_id,
                limit_a=step.limit_a,
                outcome=result.outcome.value,
                status=result.status,
            )
            await self.deps.publisher.publish(
                "profile_rejected",
                profile_rejected(self.site_id, evse.key.evse_id, step.limit_a, result),
                evse.key.station_id,
            )
        accepted_at = self.deps.clock() if result.accepted else None
        if result.accepted:
            self._failed_at.pop(evse.key, None)
        else:
            self._failed_at[evse.key] = self.deps.clock()
        return self._remember(evse, transaction_id, accepted_at=accepted_at)

    def _remember(
        self,
        evse: Evse,
        transaction_id: str,
        *,
        profiled: bool = False,
        accepted_at: datetime | None = None,
    ) -> Evse:
        before = self.safety.get(evse.key)
        same = before is not None and before.transaction_id == transaction_id
        self.safety[evse.key] = site_model.Safety(
            transaction_id,
            evse.accepted_a,
            evse.pending_a,
            evse.stale,
            profiled or bool(same and before and before.profiled),
            accepted_at or (before.accepted_at if same and before else None),
        )
        return evse

    async def _call(
        self, station_id: str, evse_id: int, profile: gw.ChargingProfile
    ) -> ProfileResult:
        timeout = self.deps.settings.profile_timeout_s
        try:
            return await asyncio.wait_for(
                self.deps.control.set_profile(station_id, evse_id, profile),
                timeout,
            )
        except TimeoutError:
            return ProfileResult(Outcome.TIMEOUT, "TIMEOUT", f"no answer within {timeout:g} s")

    async def _composite_limit_a(self, key: EvseKey) -> float | None:
        timeout = self.deps.settings.profile_timeout_s
        try:
            return await asyncio.wait_for(
                self.deps.control.composite_limit_a(key.station_id, key.evse_id), timeout
            )
        except TimeoutError:
            return None

    async def _send_defaults(self, rows: SiteRows, topology: Topology, evses: list[Evse]) -> bool:
        """Default profiles: to each station that booted or that this controller has not seen
        confirm one, and again to each whose confirmed default no longer fits (more EVs, a
        lower limit). A default is what a station may draw before energy spoke and when it
        is offline, so all of them together must fit: each is capped by the allocator's
        `safe_fallback_limits`. True when a confirmed default changed."""
        shares: dict[str, float] = {}
        for key, share in safe_fallback_limits(topology, evses).items():
            shares[key.station_id] = min(shares.get(key.station_id, share), share)
        stations, self.needs_defaults = self.needs_defaults, set()
        for station_id, share in shares.items():
            state = rows.states.get(station_id)
            online = state is None or state.online
            untried = station_id not in self.fallbacks.keys() | self._defaults_tried
            too_high = self.fallbacks.get(station_id, 0.0) > share + 1e-6
            if online and (untried or too_high):
                stations.add(station_id)
        changed = False
        for station_id in sorted(stations):
            self._defaults_tried.add(station_id)
            wanted = self._configured_fallback(rows.stations.get(station_id))
            fallback = min(wanted, shares.get(station_id, wanted))
            info = await self._station_info(station_id)
            evse_count = max(1, len(info.evse_max_current_a) if info else 1)
            profile = profiles.tx_default_profile(fallback)
            result = await self._call(station_id, 0, profile)
            if not result.accepted:
                await self.deps.publisher.publish(
                    "profile_rejected",
                    profile_rejected(self.site_id, 0, fallback, result),
                    station_id,
                )
                continue
            changed = changed or self.fallbacks.get(station_id) != fallback
            self.fallbacks[station_id] = fallback
            for key, safety in self.safety.items():
                # Transactions no TxProfile has reached obey the default profile.
                if key.station_id == station_id and not safety.profiled and not safety.stale:
                    safety.accepted_a = fallback
            # The station-wide cap is its rating: a backstop, not the offline limit (the
            # default profile is that), or it would cap every transaction for good.
            settings = rows.stations.get(station_id)
            rated = max(info.evse_max_current_a.values(), default=0.0) if info else 0.0
            evse_max = (
                settings.max_current_a if settings else (rated or self.deps.defaults.max_current_a)
            )
            await self._call(station_id, 0, profiles.station_max_profile(evse_max * evse_count))
            await self.deps.publisher.publish(
                "profile_applied",
                profile_applied(self.site_id, 0, fallback, profile, "tx_default"),
                station_id,
            )
        return changed

    def _configured_fallback(self, settings: StationSettingsRow | None) -> float:
        """The station's own fallback, else the service default, else its minimum current."""
        defaults = self.deps.defaults
        own = settings.offline_fallback_a if settings else 0.0
        if own or defaults.offline_fallback_a:
            return own or defaults.offline_fallback_a
        return settings.min_current_a if settings else defaults.min_current_a

    async def _report(self, snapshot: SiteSnapshot, trigger: str) -> None:
        targets = {key: a.limit_a for key, a in snapshot.allocation.evses.items()}
        if targets == self._targets:
            return
        self._targets = targets
        log.info(
            "allocation changed",
            site_id=self.site_id,
            trigger=trigger,
            limits={f"{k.station_id}/{k.evse_id}": v for k, v in sorted(targets.items())},
        )
        await self.deps.publisher.publish(
            "allocation_changed", allocation_changed(snapshot, trigger)
        )
        async with self.deps.sessions() as session, session.begin():
            await record(session, snapshot, trigger, self.deps.settings.history_per_site)
