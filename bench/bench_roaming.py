"""Roaming: OCPI locations GET latency with 1,000 stations, and push latency from a station's
status change on station.events.v1 to the partner's receipt of the PATCH.

The whole RoamingApp runs on the embedded broker with SQLite (or CHARGEGRID_BENCH_DATABASE_URL),
its registry a fixed set of 250 sites x 4 stations x 2 EVSEs (1,000 stations, 2,000 EVSEs).
A fake eMSP runs as a real HTTP server (uvicorn) on another port and records when each push
arrives. GETs go over real HTTP with the partner's token: pages of 100 locations at every
offset, and single locations. Status changes are published one at a time, each waited for
before the next, so the latency is the path (consumer, transaction, outbox, worker, HTTP),
not a queue.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from chargegrid.api.station.v1 import events_pb2 as ev
from chargegrid.api.stations.v1 import stations_pb2 as st
from chargegrid.platform.bus import EnvelopeFactory, EventProducer, ProducerConfig
from chargegrid.platform.bus.topics import STATION_EVENTS, default_topic_specs, ensure_topics
from chargegrid.platform.embedded_broker import EmbeddedBroker, free_port
from chargegrid.platform.http_server import HttpServer
from chargegrid.platform.logging import configure_logging
from chargegrid.roaming.app import RoamingApp
from chargegrid.roaming.ocpi import tokens
from chargegrid.roaming.partners import REGISTERED
from chargegrid.roaming.settings import RoamingSettings

SITES, STATIONS_PER_SITE, EVSES = 250, 4, 2
GETS, ONE_GETS, PUSHES = 100, 200, 100
FAST_GROUP = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 300, "poll_timeout_ms": 100}
TOKEN = "bench-partner-token"


class Registry:
    def __init__(self) -> None:
        self.sites = [
            st.Site(id=f"S{n:04d}", name=f"Site {n}", city="Berlin", country="DE",
                    latitude=52.5, longitude=13.4, timezone="Europe/Berlin")
            for n in range(SITES)
        ]  # fmt: skip
        self.stations = [
            st.Station(
                id=f"CS{n:04d}-{k}",
                site_id=site.id,
                evses=[
                    st.Evse(
                        evse_id=e,
                        connectors=[st.Connector(connector_id=1, type="cCCS2", max_power_w=150000)],
                    )
                    for e in range(1, EVSES + 1)
                ],
            )
            for n, site in enumerate(self.sites)
            for k in range(STATIONS_PER_SITE)
        ]

    async def snapshot(self) -> tuple[list[st.Site], list[st.Station]]:
        return self.sites, self.stations


class NoTariffs:
    async def snapshot(self) -> list[Any]:
        return []


def partner_app(received: dict[tuple[str, str], float]) -> FastAPI:
    app = FastAPI()

    @app.api_route("/ocpi/emsp/locations/{path:path}", methods=["PUT", "PATCH"])
    async def receive(path: str, request: Request) -> JSONResponse:
        body = await request.json()
        if request.method == "PATCH":
            received[(path.rsplit("/", 1)[-1], body["status"])] = time.perf_counter()
        return JSONResponse({"status_code": 1000, "timestamp": "2026-01-01T00:00:00Z"})

    return app


def figures(samples: list[float]) -> dict[str, float | int]:
    ms = sorted(s * 1000 for s in samples)
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(statistics.quantiles(ms, n=100)[98], 2),
        "max_ms": round(ms[-1], 2),
    }


async def wait_for(check: Any, timeout_s: float) -> bool:
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.005)
    return False


async def measure(
    app: RoamingApp, base_url: str, bootstrap: str, received: dict[Any, float]
) -> dict[str, Any]:
    async def drained() -> bool:
        backlog = await app.context.outbox.backlog()
        return all(b.backlog == 0 for b in backlog.values()) and bool(backlog)

    await app.context.services["location_sync"].once()
    pushed = await app.locations.push_all(await app.context.partners.registered_with("locations"))
    assert pushed == SITES
    assert await wait_for(drained, 120), "initial PUTs were not delivered"
    headers = {"Authorization": tokens.encode_header(TOKEN)}
    pages, ones = [], []
    async with httpx.AsyncClient(base_url=base_url, headers=headers) as http:
        for i in range(GETS):
            started = time.perf_counter()
            answer = await http.get(f"/ocpi/2.2.1/locations?offset={(i % 3) * 100}&limit=100")
            pages.append(time.perf_counter() - started)
            assert answer.status_code == 200
            assert answer.headers["X-Total-Count"] == str(SITES)
        for _ in range(ONE_GETS):
            site = f"S{random.randrange(SITES):04d}"
            started = time.perf_counter()
            answer = await http.get(f"/ocpi/2.2.1/locations/{site}")
            ones.append(time.perf_counter() - started)
            assert answer.status_code == 200
    producer = EventProducer(ProducerConfig(bootstrap, publish_timeout_s=5))
    await producer.start()
    factory = EnvelopeFactory("gateway/bench")
    latencies: list[float] = []
    lost = 0
    try:
        stations = await app.context.services["location_sync"].registry.snapshot()
        for i in range(PUSHES):
            station = stations[1][(i * 7) % len(stations[1])]  # a different station each time
            status = ev.CONNECTOR_STATUS_CHARGING
            ocpi = "CHARGING"
            key = (f"{station.id}*1", ocpi)
            received.pop(key, None)
            envelope = factory.wrap(
                "station.status_changed",
                station.id,
                ev.StatusChanged(evse_id=1, connector_id=1, status=status),
            )
            started = time.perf_counter()
            await producer.publish(STATION_EVENTS, envelope)

            async def arrived(k: Any = key) -> bool:
                return k in received

            if await wait_for(arrived, 15):
                latencies.append(received[key] - started)
            else:
                lost += 1
    finally:
        await producer.stop()
    return {
        "locations_get_page_of_100": figures(pages),
        "locations_get_one": figures(ones),
        "push_status_change_to_partner": {**figures(latencies), "not_arrived_in_15s": lost},
    }


async def run() -> dict[str, Any]:
    configure_logging("roaming-bench", "WARNING")
    for handler in logging.getLogger().handlers:  # the JSON report alone on stdout
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)
    broker = EmbeddedBroker(port=free_port())
    await broker.start()
    received: dict[tuple[str, str], float] = {}
    partner_port, our_port = free_port(), free_port()
    partner = HttpServer(partner_app(received), "127.0.0.1", partner_port)
    await partner.start()
    try:
        await ensure_topics(broker.bootstrap_servers, default_topic_specs())
        with tempfile.TemporaryDirectory() as tmp:
            database = (
                os.environ.get("CHARGEGRID_BENCH_DATABASE_URL")
                or f"sqlite:///{Path(tmp) / 'roaming.db'}"
            )
            settings = RoamingSettings(
                database_url=database,
                kafka_bootstrap_servers=broker.bootstrap_servers,
                grpc_host="127.0.0.1",
                grpc_port=0,
                metrics_port=0,
                http_host="127.0.0.1",
                http_port=our_port,
                api_tokens_file=Path(tmp) / "api-tokens.json",
                consumer_group=f"roaming-bench-{uuid.uuid4().hex[:6]}",
                outbox_poll_interval_s=0.5,
                locations_sync_interval_s=3600,
            )
            app = RoamingApp(
                settings, registry=Registry(), tariffs=NoTariffs(), consumer_tuning=FAST_GROUP
            )
            await app.start()
            try:
                await app.context.partners.add(
                    "bench", allowed_modules=["credentials", "locations"]
                )
                await app.context.partners.update(
                    "bench",
                    status=REGISTERED,
                    token_hash=tokens.digest(TOKEN),
                    token_a_hash=None,
                    their_token="their-token",
                    country_code="NL",
                    party_id="EMS",
                    endpoints=[{"identifier": "locations", "role": "RECEIVER",
                                "url": f"http://127.0.0.1:{partner_port}/ocpi/emsp/locations"}],
                )  # fmt: skip
                result = await measure(app, settings.public_url, broker.bootstrap_servers, received)
            finally:
                await app.stop()
        return {
            "database": database.split(":", 1)[0],
            "sites": SITES,
            "stations": SITES * STATIONS_PER_SITE,
            "evses": SITES * STATIONS_PER_SITE * EVSES,
            **result,
        }
    finally:
        await partner.stop()
        await broker.stop()
