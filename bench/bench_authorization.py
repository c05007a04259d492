"""Authorize latency and throughput of a real authorization service holding 100,000 tokens.

The service runs as its own process (`python -m chargegrid.authorization`, SQLite under a
temporary directory, Kafka consumption off) pinned to one core, the load generator pinned to
the other, as TOOLING.md advises on this two-core machine. The same run measures two
baselines for context: the engine's in-process decision alone (what the service adds on top
of gRPC) and the gRPC health check on the same server (what any call through our
interceptor stack costs).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from grpc_health.v1 import health_pb2, health_pb2_grpc

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.api.authorization.v1.authorization_pb2_grpc import AuthorizationStub
from chargegrid.authorization.app import MIGRATIONS
from chargegrid.authorization.domain import AuthorizeQuery, Token
from chargegrid.authorization.engine import DecisionEngine
from chargegrid.authorization.store import TokenStore
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.embedded_broker import free_port
from chargegrid.platform.grpc import Role, TokenRegistry, create_channel
from chargegrid.platform.migrations import upgrade

TOKENS = 100_000
UNKNOWN_SHARE = 0.05
PHASES = ((1, 2.0), (16, 4.0), (64, 3.0))  # (concurrent callers, seconds)
PACED_RATES = (200, 500)  # calls/s offered open-loop


def _tokens(now: datetime) -> list[Token]:
    statuses = ("Accepted",) * 17 + ("Blocked", "Expired", "Invalid")
    return [
        Token(
            id_token=f"TAG{n:07d}",
            status=statuses[n % len(statuses)],
            group_id=f"TAG{n - n % 50:07d}" if n % 50 else "",
            allowed_site_ids=("SITE-1",) if n % 10 == 0 else (),
            created_at=now,
            updated_at=now,
        )
        for n in range(TOKENS)
    ]


async def _seed(url: str, tokens: list[Token]) -> float:
    started = time.perf_counter()
    engine = create_engine(url)
    await upgrade(engine, MIGRATIONS)
    store = TokenStore(session_factory(engine))
    async with store.sessions() as session, session.begin():
        await store.write(session, [(t, None) for t in tokens])
    await engine.dispose()
    return time.perf_counter() - started


def _pin(cpu: int) -> None:
    with contextlib.suppress(AttributeError, OSError):
        if os.cpu_count() and os.cpu_count() > 1:  # type: ignore[operator]
            os.sched_setaffinity(0, {cpu})


def _summary(latencies: list[float], elapsed: float) -> dict[str, float]:
    latencies.sort()
    return {
        "calls": len(latencies),
        "per_s": round(len(latencies) / elapsed),
        "p50_ms": round(statistics.median(latencies) * 1000, 3),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 3),
    }


async def _drive(call: Callable[[int], Awaitable[Any]], callers: int, seconds: float) -> dict:
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def caller(seed: int) -> None:
        n = seed
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            await call(n)
            latencies.append(time.perf_counter() - started)
            n += callers

    started = time.perf_counter()
    await asyncio.gather(*(caller(i) for i in range(callers)))
    return _summary(latencies, time.perf_counter() - started)


def _in_process_decide(tokens: list[Token]) -> dict[str, float]:
    engine = DecisionEngine()
    engine.load(tokens, [])
    now = datetime.now(UTC)
    rng = random.Random(7)
    ids = [f"TAG{rng.randrange(TOKENS):07d}" for _ in range(50_000)]
    latencies = []
    for id_token in ids:
        started = time.perf_counter()
        query = AuthorizeQuery("CP-1", id_token)
        token = engine.find(id_token, "")
        if token is not None:
            engine.decide(query, token, "SITE-1", now)
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    return {
        "p50_us": round(statistics.median(latencies) * 1e6, 2),
        "p99_us": round(latencies[int(len(latencies) * 0.99)] * 1e6, 2),
    }


async def _wait_serving(target: str, token: str, timeout_s: float = 60.0) -> None:
    channel = create_channel(target, token=token, max_attempts=1)
    stub: Any = health_pb2_grpc.HealthStub(channel)
    deadline = time.perf_counter() + timeout_s
    try:
        while True:
            with contextlib.suppress(Exception):
                reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            if time.perf_counter() > deadline:
                raise TimeoutError("authorization service did not start")
            await asyncio.sleep(0.1)
    finally:
        await channel.close()


async def run() -> dict[str, Any]:
    now = datetime.now(UTC)
    tokens = _tokens(now)
    with tempfile.TemporaryDirectory(prefix="bench-authz-") as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'authorization.db'}"
        seed_s = await _seed(url, tokens)
        registry = TokenRegistry(root / "api-tokens.json")
        service_token = registry.add("bench", Role.SERVICE)
        port = free_port()
        env = {
            **os.environ,
            "CHARGEGRID_AUTHORIZATION_DATABASE_URL": url,
            "CHARGEGRID_AUTHORIZATION_GRPC_PORT": str(port),
            "CHARGEGRID_AUTHORIZATION_GRPC_HOST": "127.0.0.1",
            "CHARGEGRID_AUTHORIZATION_METRICS_PORT": str(free_port()),
            "CHARGEGRID_AUTHORIZATION_API_TOKENS_FILE": str(root / "api-tokens.json"),
            "CHARGEGRID_AUTHORIZATION_VAR_DIR": str(root),
            "CHARGEGRID_AUTHORIZATION_CONSUME_EVENTS": "false",
            "CHARGEGRID_AUTHORIZATION_STATIONS_ADDRESS": "",
            "CHARGEGRID_AUTHORIZATION_GATEWAY_ADDRESS": "",
        }
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "chargegrid.authorization",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            preexec_fn=lambda: _pin(0),
        )
        target = f"127.0.0.1:{port}"
        try:
            await _wait_serving(target, service_token)
            start_s = time.perf_counter() - started
            _pin(1)
            result = await _measure(target, service_token)
        finally:
            process.terminate()
            await process.wait()
    result.update(
        {
            "tokens": TOKENS,
            "seed_db_s": round(seed_s, 2),
            "service_start_with_tokens_s": round(start_s, 2),
            "baseline_in_process_decide": _in_process_decide(tokens),
            "note": "server and load generator (a Python gRPC client, itself limited to "
            "~1.5-2k calls/s) pinned to different cores; Authorize is logged at debug level "
            "(every decision is in the audit table)",
        }
    )
    return result


async def _paced(call: Callable[[int], Awaitable[Any]], rate: float, seconds: float) -> dict:
    """Open loop: a call every 1/rate s whatever the answers do, as stations arrive; the
    latency a station sees at a load the server is not saturated by."""
    latencies: list[float] = []

    async def one(n: int) -> None:
        started = time.perf_counter()
        await call(n)
        latencies.append(time.perf_counter() - started)

    tasks = []
    begin = time.perf_counter()
    for n in range(int(rate * seconds)):
        delay = begin + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)
    result = _summary(latencies, time.perf_counter() - begin)
    result["offered_per_s"] = rate
    return result


async def _measure(target: str, token: str) -> dict[str, Any]:
    channel = create_channel(target, token=token, max_attempts=1)
    authz = AuthorizationStub(channel)
    health: Any = health_pb2_grpc.HealthStub(channel)
    rng = random.Random(42)
    ids = [
        f"NOPE{n:07d}" if rng.random() < UNKNOWN_SHARE else f"TAG{rng.randrange(TOKENS):07d}"
        for n in range(20_000)
    ]
    requests = [
        pb.AuthorizeRequest(station_id=f"CP-{n % 500}", id_token=i, purpose="authorize")
        for n, i in enumerate(ids)
    ]

    async def authorize(n: int) -> None:
        await authz.Authorize(requests[n % len(requests)])

    async def check(_: int) -> None:
        await health.Check(health_pb2.HealthCheckRequest())

    try:
        await _drive(authorize, 8, 1.0)  # warm up channel and server
        phases: dict[str, Any] = {}
        for rate in PACED_RATES:
            phases[f"authorize_paced_{rate}_per_s"] = await _paced(authorize, rate, 4.0)
        for callers, seconds in PHASES:
            phases[f"authorize_c{callers}"] = await _drive(authorize, callers, seconds)
            phases[f"baseline_health_c{callers}"] = await _drive(check, callers, seconds / 2)
        return phases
    finally:
        await channel.close()


if __name__ == "__main__":
    import json

    print(json.dumps(asyncio.run(run()), indent=2))
