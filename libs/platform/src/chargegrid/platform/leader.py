"""Leader election for singleton work: one pod of a Deployment does it, the others stand by.

`LeaseElector` contends for a coordination.k8s.io/v1 Lease through the `kubernetes` client,
which is synchronous, so every call runs in a thread with a short timeout. The holder renews
the Lease every `retry_period_s`. A contender takes it when its holder has not renewed it for
the lease duration: by the renewTime written in the Lease, or by its own observation when the
holder's clock runs ahead. Every write carries the resourceVersion it read, so of two
contenders exactly one wins and the other gets 409 Conflict. `run(work)` runs `work` only
while leading and cancels it at once when the Lease is taken or cannot be renewed within
`renew_deadline_s`; the deadline is shorter than the lease duration, so an old leader has
stopped before a new one may start (pod clocks must agree to within the difference, as NTP
keeps them). A leader that stops releases the Lease so another takes over at once.

Outside Kubernetes (`KUBERNETES_SERVICE_HOST` unset) `LocalElector` is always the leader: one
process, nobody to contend with. `elector_for(name)` picks one of the two.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import math
import os
import socket
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

from chargegrid.platform.logging import get_logger

Work = Callable[[], Coroutine[Any, Any, None]]
T = TypeVar("T")

log = get_logger(__name__)

NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


@dataclass(frozen=True, slots=True)
class LeaseTiming:
    """client-go's defaults: a 15 s lease, renewed every 2 s, given up after 10 s of failures."""

    lease_duration_s: float = 15.0
    renew_deadline_s: float = 10.0
    retry_period_s: float = 2.0
    #: Timeout of one API request (each attempt is also bounded by the renew deadline).
    request_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if not self.lease_duration_s > self.renew_deadline_s > self.retry_period_s > 0:
            raise ValueError("need lease_duration_s > renew_deadline_s > retry_period_s > 0")


class Elector(Protocol):
    identity: str

    @property
    def is_leader(self) -> bool: ...

    async def run(self, work: Work) -> None: ...


class _Outcome(enum.Enum):
    LEADING = "leading"
    HELD_BY_OTHER = "held by another"
    FAILED = "failed"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LeaseElector:
    """Leader election on one Lease; `run(work)` until cancelled or `work` returns."""

    def __init__(
        self,
        api: k8s.CoordinationV1Api,
        *,
        namespace: str,
        name: str,
        identity: str,
        timing: LeaseTiming | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], dt.datetime] = _utcnow,
    ) -> None:
        self.identity = identity
        self.namespace = namespace
        self.name = name
        self.timing = timing or LeaseTiming()
        self._api = api
        self._clock = clock
        self._wall = wall_clock
        self._leading = False
        self._renewed_at = -math.inf
        self._observed: tuple[str | None, dt.datetime | None, str | None] | None = None
        self._observed_at = -math.inf
        self._expires_at: dt.datetime | None = None

    @property
    def is_leader(self) -> bool:
        return self._leading

    async def run(self, work: Work) -> None:
        """Wait for leadership, run `work` while leading, start over when it is lost.

        Returns when `work` returns (raising what it raised); the Lease is released then and
        when `run` is cancelled.
        """
        while True:
            await self._acquire()
            if await self._lead(work):
                return

    async def _lead(self, work: Work) -> bool:
        """Run `work` while the Lease is kept; True when `work` finished by itself."""
        work_task = asyncio.create_task(work(), name=f"leader-work-{self.name}")
        keeper = asyncio.create_task(self._keep(), name=f"leader-renew-{self.name}")
        try:
            await asyncio.wait({work_task, keeper}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            await self._stop(work_task, keeper)
            await self._release()
            raise
        if work_task.done():
            await self._stop(keeper)
            await self._release()
            work_task.result()
            return True
        # The Lease is lost: the work stops before anything else happens.
        await self._stop(work_task)
        return False

    @staticmethod
    async def _stop(*tasks: asyncio.Task[None]) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _acquire(self) -> None:
        while True:
            outcome = await self._attempt(self.timing.request_timeout_s)
            if outcome is _Outcome.LEADING:
                log.info("leader election: leading", lease=self.name, identity=self.identity)
                return
            await asyncio.sleep(self._wait_before_retry())

    def _wait_before_retry(self) -> float:
        """The retry period, or less when the holder's Lease expires sooner (fast handover)."""
        wait = self.timing.retry_period_s
        if self._expires_at is not None:
            until_expiry = (self._expires_at - self._wall()).total_seconds()
            wait = min(wait, max(until_expiry, 0.0) + 0.01)
        return wait

    async def _keep(self) -> None:
        """Renew until the Lease is taken or not renewed within the renew deadline."""
        retry = self.timing.retry_period_s
        while True:
            await asyncio.sleep(min(retry, max(self._renew_time_left(), 0.0)))
            left = self._renew_time_left()
            if left <= 0:
                return self._lose("not renewed within the renew deadline")
            outcome = await self._attempt(min(left, self.timing.request_timeout_s))
            if outcome is _Outcome.HELD_BY_OTHER:
                return self._lose("taken by another holder")
            if self._renew_time_left() <= 0:
                return self._lose("not renewed within the renew deadline")

    def _renew_time_left(self) -> float:
        return self._renewed_at + self.timing.renew_deadline_s - self._clock()

    def _lose(self, why: str) -> None:
        self._leading = False
        log.warning("leader election: lost the lease", lease=self.name, reason=why)

    async def _attempt(self, budget_s: float) -> _Outcome:
        """Create, take over or renew the Lease, once."""
        started = self._clock()
        now = self._wall()
        timeout = budget_s
        try:
            try:
                lease = await self._call(
                    self._api.read_namespaced_lease, self.name, self.namespace, budget_s=timeout
                )
            except ApiException as error:
                if error.status != 404:
                    raise
                await self._call(
                    self._api.create_namespaced_lease,
                    self.namespace,
                    self._new_lease(now),
                    budget_s=timeout,
                )
                return self._now_leading(started)
            spec = lease.spec or k8s.V1LeaseSpec()
            self._observe(spec, lease.metadata.resource_version if lease.metadata else None)
            holder = spec.holder_identity
            if holder and holder != self.identity and not self._expired(spec):
                return _Outcome.HELD_BY_OTHER
            lease.spec = self._next_spec(spec, now)
            await self._call(
                self._api.replace_namespaced_lease,
                self.name,
                self.namespace,
                lease,
                budget_s=timeout,
            )
            return self._now_leading(started)
        except ApiException as error:
            if error.status == 409:  # another contender wrote first
                return _Outcome.HELD_BY_OTHER
            log.warning("leader election: API error", lease=self.name, status=error.status)
        except (TimeoutError, OSError, ValueError) as error:
            log.warning("leader election: API unreachable", lease=self.name, error=repr(error))
        return _Outcome.FAILED

    def _now_leading(self, started: float) -> _Outcome:
        # Counted from before the request: the Lease may have been written at that instant.
        self._renewed_at = started
        self._leading = True
        self._expires_at = None
        return _Outcome.LEADING

    def _observe(self, spec: k8s.V1LeaseSpec, resource_version: str | None) -> None:
        record = (spec.holder_identity, spec.renew_time, resource_version)
        if record != self._observed:
            self._observed = record
            self._observed_at = self._clock()
        duration = spec.lease_duration_seconds or self._duration_seconds()
        renewed = spec.renew_time
        self._expires_at = renewed + dt.timedelta(seconds=duration) if renewed else None

    def _expired(self, spec: k8s.V1LeaseSpec) -> bool:
        duration = spec.lease_duration_seconds or self._duration_seconds()
        if self._expires_at is not None and self._wall() >= self._expires_at:
            return True
        return self._clock() - self._observed_at >= duration

    def _duration_seconds(self) -> int:
        return max(1, math.ceil(self.timing.lease_duration_s))

    def _next_spec(self, spec: k8s.V1LeaseSpec, now: dt.datetime) -> k8s.V1LeaseSpec:
        taking_over = spec.holder_identity != self.identity
        transitions = spec.lease_transitions or 0
        return k8s.V1LeaseSpec(
            holder_identity=self.identity,
            lease_duration_seconds=self._duration_seconds(),
            acquire_time=now if taking_over or spec.acquire_time is None else spec.acquire_time,
            renew_time=now,
            lease_transitions=transitions + 1 if taking_over else transitions,
        )

    def _new_lease(self, now: dt.datetime) -> k8s.V1Lease:
        return k8s.V1Lease(
            metadata=k8s.V1ObjectMeta(name=self.name, namespace=self.namespace),
            spec=k8s.V1LeaseSpec(
                holder_identity=self.identity,
                lease_duration_seconds=self._duration_seconds(),
                acquire_time=now,
                renew_time=now,
                lease_transitions=0,
            ),
        )

    async def _release(self) -> None:
        """Give the Lease up so another contender takes over without waiting for expiry."""
        if not self._leading:
            return
        self._leading = False
        timeout = self.timing.request_timeout_s
        try:
            lease = await self._call(
                self._api.read_namespaced_lease, self.name, self.namespace, budget_s=timeout
            )
            if lease.spec is None or lease.spec.holder_identity != self.identity:
                return
            lease.spec = k8s.V1LeaseSpec(
                holder_identity="",
                lease_duration_seconds=1,
                acquire_time=lease.spec.acquire_time,
                renew_time=self._wall(),
                lease_transitions=lease.spec.lease_transitions,
            )
            await self._call(
                self._api.replace_namespaced_lease,
                self.name,
                self.namespace,
                lease,
                budget_s=timeout,
            )
            log.info("leader election: released", lease=self.name, identity=self.identity)
        except (ApiException, TimeoutError, OSError, ValueError) as error:
            log.warning("leader election: release failed", lease=self.name, error=repr(error))

    @staticmethod
    async def _call(function: Callable[..., T], *args: Any, budget_s: float) -> T:
        budget_s = max(budget_s, 0.05)
        call = asyncio.ensure_future(asyncio.to_thread(function, *args, _request_timeout=budget_s))
        # The thread may outlive the wait; the decision does not wait for it. Not
        # asyncio.wait_for: on 3.11 it can swallow a cancellation that arrives just as the
        # call completes, and a cancelled elector must stop (seen as a hung test shutdown).
        try:
            done, _ = await asyncio.wait({call}, timeout=budget_s)
        except asyncio.CancelledError:
            call.cancel()
            raise
        if not done:
            call.cancel()
            raise TimeoutError(f"no answer from the Kubernetes API within {budget_s:.2f} s")
        return call.result()


class LocalElector:
    """Always the leader: a single process outside Kubernetes has nobody to contend with."""

    def __init__(self, identity: str) -> None:
        self.identity = identity
        self._leading = False

    @property
    def is_leader(self) -> bool:
        return self._leading

    async def run(self, work: Work) -> None:
        self._leading = True
        try:
            await work()
        finally:
            self._leading = False


def in_cluster(environ: Mapping[str, str] | None = None) -> bool:
    """True inside a Kubernetes pod (the kubelet sets KUBERNETES_SERVICE_HOST)."""
    return bool((os.environ if environ is None else environ).get("KUBERNETES_SERVICE_HOST"))


def elector_for(
    work_name: str,
    *,
    identity: str | None = None,
    timing: LeaseTiming | None = None,
    environ: Mapping[str, str] | None = None,
    api: k8s.CoordinationV1Api | None = None,
) -> Elector:
    """The elector for one kind of singleton work (e.g. "stations-sweeper").

    In a pod: a LeaseElector on Lease `<CHARGEGRID_LEADER_LEASE_PREFIX>-<work_name>` in
    CHARGEGRID_LEADER_NAMESPACE (the Helm chart sets both; the namespace falls back to the
    service account's), holder = CHARGEGRID_POD_NAME. Elsewhere: a LocalElector.
    """
    env = os.environ if environ is None else environ
    identity = identity or env.get("CHARGEGRID_POD_NAME") or socket.gethostname()
    if api is None and not in_cluster(env):
        return LocalElector(identity)
    if api is None:
        k8s_config.load_incluster_config()  # type: ignore[no-untyped-call]
        api = k8s.CoordinationV1Api(k8s.ApiClient())
    namespace = env.get("CHARGEGRID_LEADER_NAMESPACE") or _service_account_namespace()
    prefix = env.get("CHARGEGRID_LEADER_LEASE_PREFIX", "chargegrid")
    return LeaseElector(
        api, namespace=namespace, name=f"{prefix}-{work_name}", identity=identity, timing=timing
    )


def _service_account_namespace() -> str:
    try:
        return NAMESPACE_FILE.read_text().strip()
    except OSError:
        return "default"
