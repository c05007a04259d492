"""Leader election on a Lease, against a fake of the Kubernetes Lease API on a local port.

The fake speaks the real wire protocol (GET, POST, PUT of coordination.k8s.io/v1 Leases,
409 on a stale resourceVersion or an existing name), so the real `kubernetes` client and
the real `LeaseElector` run unchanged. A contender can be cut off (503 for its requests, by
its User-Agent) to play a leader whose renewals stop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from kubernetes import client as k8s

from chargegrid.platform.leader import (
    LeaseElector,
    LeaseTiming,
    LocalElector,
    elector_for,
)

NAMESPACE = "chargegrid"
LEASE = "chargegrid-stations-sweeper"
LEASES_PATH = f"/apis/coordination.k8s.io/v1/namespaces/{NAMESPACE}/leases"
TIMING = LeaseTiming(
    lease_duration_s=2.0, renew_deadline_s=1.2, retry_period_s=0.2, request_timeout_s=0.5
)
#: Scheduling and HTTP round trips on a busy machine.
SLACK_S = 0.5


class FakeLeaseApi:
    """The Lease part of a Kubernetes API server, in memory."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.leases: dict[str, dict[str, Any]] = {}
        self.version = 0
        self.cut_off: set[str] = set()

    def holder(self, name: str = LEASE) -> str | None:
        with self.lock:
            lease = self.leases.get(name)
            return lease["spec"].get("holderIdentity") if lease else None

    def overwrite_holder(self, identity: str, name: str = LEASE) -> None:
        with self.lock:
            lease = self.leases[name]
            lease["spec"]["holderIdentity"] = identity
            lease["spec"]["renewTime"] = dt.datetime.now(dt.UTC).isoformat()
            self._bump(lease)

    def _bump(self, lease: dict[str, Any]) -> None:
        self.version += 1
        lease["metadata"]["resourceVersion"] = str(self.version)

    def handle(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, Any]:
        with self.lock:
            if method == "POST" and path == LEASES_PATH:
                assert body is not None
                name = body["metadata"]["name"]
                if name in self.leases:
                    return 409, status(409, "AlreadyExists")
                self._bump(body)
                self.leases[name] = body
                return 201, body
            name = path.removeprefix(LEASES_PATH + "/")
            if not path.startswith(LEASES_PATH + "/") or "/" in name:
                return 404, status(404, "NotFound")
            current = self.leases.get(name)
            if current is None:
                return 404, status(404, "NotFound")
            if method == "GET":
                return 200, current
            if method == "PUT":
                assert body is not None
                if (
                    body["metadata"].get("resourceVersion")
                    != current["metadata"]["resourceVersion"]
                ):
                    return 409, status(409, "Conflict")
                self._bump(body)
                self.leases[name] = body
                return 200, body
            return 405, status(405, "MethodNotAllowed")


def status(code: int, reason: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "reason": reason,
        "code": code,
    }


def make_handler(api: FakeLeaseApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            if self.headers.get("User-Agent") in api.cut_off:
                code, payload = 503, status(503, "ServiceUnavailable")
            else:
                code, payload = api.handle(self.command, self.path.split("?")[0], body)
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeLeaseApi, str]]:
    api = FakeLeaseApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(api))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield api, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def contender(host: str, identity: str) -> LeaseElector:
    api_client = k8s.ApiClient(k8s.Configuration(host=host))
    api_client.user_agent = identity  # lets the fake cut this contender off
    return LeaseElector(
        k8s.CoordinationV1Api(api_client),
        namespace=NAMESPACE,
        name=LEASE,
        identity=identity,
        timing=TIMING,
    )


class Timeline:
    """When each contender's singleton work started and stopped."""

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.events: list[tuple[float, str, str]] = []

    def work_of(self, identity: str) -> Any:
        async def work() -> None:
            self.running.add(identity)
            self.events.append((time.monotonic(), identity, "start"))
            try:
                await asyncio.Event().wait()
            finally:
                self.running.discard(identity)
                self.events.append((time.monotonic(), identity, "stop"))

        return work

    def started_at(self, identity: str) -> float:
        return next(t for t, who, what in self.events if who == identity and what == "start")

    def stopped_at(self, identity: str) -> float:
        return next(t for t, who, what in self.events if who == identity and what == "stop")


async def wait_until(condition: Any, timeout: float) -> float:
    """Seconds until `condition()` held; fails after `timeout`."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - start


async def stop(*tasks: asyncio.Task[None]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_of_two_contenders_exactly_one_leads(fake_api: tuple[FakeLeaseApi, str]) -> None:
    api, host = fake_api
    a, b = contender(host, "pod-a"), contender(host, "pod-b")
    timeline = Timeline()
    tasks = [asyncio.create_task(e.run(timeline.work_of(e.identity))) for e in (a, b)]
    try:
        await wait_until(lambda: a.is_leader or b.is_leader, TIMING.lease_duration_s)
        for _ in range(30):  # several renewal periods
            assert [a.is_leader, b.is_leader].count(True) == 1
            assert len(timeline.running) <= 1
            await asyncio.sleep(0.05)
        leader = a if a.is_leader else b
        assert timeline.running == {leader.identity}
        assert api.holder() == leader.identity
    finally:
        await stop(*tasks)


async def test_a_leader_cut_off_stops_its_work_and_the_other_takes_over_within_the_lease_duration(
    fake_api: tuple[FakeLeaseApi, str],
) -> None:
    api, host = fake_api
    a, b = contender(host, "pod-a"), contender(host, "pod-b")
    timeline = Timeline()
    task_a = asyncio.create_task(a.run(timeline.work_of("pod-a")))
    await wait_until(lambda: a.is_leader, 1.0)
    task_b = asyncio.create_task(b.run(timeline.work_of("pod-b")))
    try:
        await asyncio.sleep(0.5)  # pod-a renews a few times, pod-b waits
        assert timeline.running == {"pod-a"}

        cut_at = time.monotonic()
        api.cut_off.add("pod-a")  # its renewals fail from now on
        await wait_until(lambda: "pod-a" not in timeline.running, TIMING.renew_deadline_s + SLACK_S)
        await wait_until(lambda: b.is_leader, TIMING.lease_duration_s + SLACK_S)
        # Its work starts on the loop's next turns, after it became leader.
        await wait_until(lambda: "pod-b" in timeline.running, SLACK_S)

        assert not a.is_leader
        assert timeline.stopped_at("pod-a") - cut_at <= TIMING.renew_deadline_s + SLACK_S
        assert timeline.started_at("pod-b") - cut_at <= TIMING.lease_duration_s + SLACK_S
        # Never two at once: the old leader stopped before the new one started.
        assert timeline.stopped_at("pod-a") < timeline.started_at("pod-b")
        assert api.holder() == "pod-b"
    finally:
        await stop(task_a, task_b)


async def test_a_lease_taken_by_another_holder_cancels_the_work_at_once(
    fake_api: tuple[FakeLeaseApi, str],
) -> None:
    api, host = fake_api
    a = contender(host, "pod-a")
    timeline = Timeline()
    task = asyncio.create_task(a.run(timeline.work_of("pod-a")))
    try:
        await wait_until(lambda: "pod-a" in timeline.running, 1.0)
        api.overwrite_holder("pod-intruder")
        waited = await wait_until(lambda: "pod-a" not in timeline.running, 1.0)
        assert waited <= TIMING.retry_period_s + SLACK_S
        assert not a.is_leader
        assert api.holder() == "pod-intruder"
    finally:
        await stop(task)


async def test_a_leader_that_stops_releases_the_lease_for_an_immediate_handover(
    fake_api: tuple[FakeLeaseApi, str],
) -> None:
    _, host = fake_api
    a, b = contender(host, "pod-a"), contender(host, "pod-b")
    timeline = Timeline()
    task_a = asyncio.create_task(a.run(timeline.work_of("pod-a")))
    await wait_until(lambda: a.is_leader, 1.0)
    task_b = asyncio.create_task(b.run(timeline.work_of("pod-b")))
    try:
        await asyncio.sleep(0.3)
        await stop(task_a)
        waited = await wait_until(lambda: b.is_leader, TIMING.lease_duration_s)
        assert waited < TIMING.lease_duration_s / 2
        assert timeline.running == {"pod-b"}
    finally:
        await stop(task_b)


async def test_work_that_finishes_ends_run_and_gives_the_lease_up(
    fake_api: tuple[FakeLeaseApi, str],
) -> None:
    api, host = fake_api
    a = contender(host, "pod-a")
    done: list[str] = []

    async def work() -> None:
        done.append("ran")

    await asyncio.wait_for(a.run(work), 2.0)
    assert done == ["ran"]
    assert not a.is_leader
    assert api.holder() == ""


def test_outside_a_cluster_the_local_elector_is_chosen() -> None:
    elector = elector_for("stations-sweeper", environ={"CHARGEGRID_POD_NAME": "laptop"})
    assert isinstance(elector, LocalElector)
    assert elector.identity == "laptop"


async def test_the_local_elector_leads_while_its_work_runs() -> None:
    elector = LocalElector("laptop")
    seen: list[bool] = []

    async def work() -> None:
        seen.append(elector.is_leader)

    await elector.run(work)
    assert seen == [True]
    assert not elector.is_leader


def test_in_a_cluster_the_lease_is_named_after_the_release_and_the_work() -> None:
    environ = {
        "KUBERNETES_SERVICE_HOST": "10.0.0.1",
        "CHARGEGRID_POD_NAME": "chargegrid-stations-7d9f-abcde",
        "CHARGEGRID_LEADER_NAMESPACE": "charging",
        "CHARGEGRID_LEADER_LEASE_PREFIX": "prod-chargegrid",
    }
    api = k8s.CoordinationV1Api(k8s.ApiClient(k8s.Configuration(host="http://127.0.0.1:9")))
    elector = elector_for("stations-sweeper", environ=environ, api=api)
    assert isinstance(elector, LeaseElector)
    assert (elector.namespace, elector.name, elector.identity) == (
        "charging",
        "prod-chargegrid-stations-sweeper",
        "chargegrid-stations-7d9f-abcde",
    )


def test_timings_that_would_let_two_leaders_overlap_are_refused() -> None:
    with pytest.raises(ValueError, match="lease_duration_s > renew_deadline_s"):
        LeaseTiming(lease_duration_s=5, renew_deadline_s=6, retry_period_s=1)
