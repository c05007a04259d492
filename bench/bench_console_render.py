"""Console: time to first render of the overview in Chromium, with BENCH_CONSOLE_STATIONS
(1,000) registered stations.

A `chargegrid dev` stack on free ports; the stations are created through the stations gRPC
API. Each round opens a fresh browser context (empty cache, the admin token in
sessionStorage), navigates to `/#/overview` and reads the `chargegrid:overview-rendered`
performance mark the page sets when the overview numbers are on screen: milliseconds from
navigation start. The first round is cold (nothing cached by the server or the browser);
`warm` are the BENCH_CONSOLE_ROUNDS (20) after it. Needs /usr/bin/chromium.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.bench_stop_to_cdr import _free_offset, _start_stack, _wait_for
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.api.stations.v1.stations_pb2_grpc import StationsStub
from chargegrid.cli.stack import HTTP_PORTS
from chargegrid.platform.grpc import create_channel
from chargegrid.platform.settings import GRPC_PORTS

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # 8080 + a port offset of 2000 is 10080, a port Chromium refuses unless allowed.
    "--explicitly-allowed-ports=10080",
]
SITE = "BENCH-CONSOLE"


async def _create_stations(address: str, token: str, count: int) -> None:
    channel = create_channel(address, token=token)
    try:
        stub = StationsStub(channel)
        await stub.CreateSite(pb.CreateSiteRequest(site=pb.Site(id=SITE, name="Bench console")))
        for first in range(0, count, 50):
            await asyncio.gather(
                *(
                    stub.CreateStation(
                        pb.CreateStationRequest(
                            station=pb.Station(id=f"BENCH-C{n:05d}", site_id=SITE, vendor="Bench")
                        )
                    )
                    for n in range(first, min(count, first + 50))
                )
            )
    finally:
        await channel.close()


def _overview_total(url: str, token: str) -> int:
    request = urllib.request.Request(
        f"{url}/api/v1/overview", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return int(json.loads(reply.read())["stations_total"])
    except OSError:
        return -1


async def _wait_console(url: str, token: str, count: int) -> int:
    """Until the console's overview counts the stations (its mirror resyncs periodically)."""
    deadline = time.monotonic() + 150
    total = -1
    while time.monotonic() < deadline:
        total = await asyncio.to_thread(_overview_total, url, token)
        if total >= count:
            break
        await asyncio.sleep(1)
    return total


PHASES = """() => {
    const end = (suffix) => {
        const e = performance.getEntriesByType('resource').find((r) => r.name.endsWith(suffix));
        return e ? e.responseEnd : null;
    };
    const nav = performance.getEntriesByType('navigation')[0];
    return {
        dom_content_loaded_ms: nav ? nav.domContentLoadedEventEnd : null,
        me_answered_ms: end('/api/v1/me'),
        overview_answered_ms: end('/api/v1/overview'),
    };
}"""


async def _render_ms(browser: Any, url: str, token: str) -> tuple[float, dict[str, float]]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        await context.add_init_script(f"sessionStorage.setItem('chargegrid.token', {token!r})")
        page = await context.new_page()
        await page.goto(f"{url}/#/overview")
        handle = await page.wait_for_function(
            """() => {
                const m = performance.getEntriesByName('chargegrid:overview-rendered');
                return m.length ? m[0].startTime : null;
            }""",
            timeout=30_000,
        )
        mark: float = await handle.json_value()
        return mark, await page.evaluate(PHASES)
    finally:
        await context.close()


async def _measure(url: str, token: str, rounds: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            cold, _ = await _render_ms(browser, url, token)
            runs = [await _render_ms(browser, url, token) for _ in range(rounds)]
        finally:
            await browser.close()
    ordered = sorted(mark for mark, _ in runs)
    phases = {
        name: round(statistics.median(p[name] for _, p in runs if p[name] is not None), 1)
        for name in runs[0][1]
    }
    return {
        "cold_ms": round(cold, 1),
        "warm": {
            "count": len(ordered),
            "p50_ms": round(statistics.median(ordered), 1),
            "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)], 1),
            "max_ms": round(ordered[-1], 1),
        },
        # Medians of the warm rounds, ms from navigation start: where the time goes.
        "phases_p50_ms": phases,
    }


async def run() -> dict[str, Any]:
    if shutil.which(CHROMIUM) is None:
        return {"skipped": f"{CHROMIUM} is missing (apt-get install -y chromium)"}
    count = int(os.environ.get("BENCH_CONSOLE_STATIONS", "1000"))
    rounds = int(os.environ.get("BENCH_CONSOLE_ROUNDS", "20"))
    offset = _free_offset()
    with tempfile.TemporaryDirectory() as tmp:
        var_dir, log = Path(tmp) / "var", Path(tmp) / "dev.log"
        process = await asyncio.to_thread(_start_stack, var_dir, log, offset)
        try:
            await _wait_for(log, "admin API token", process)
            token = (var_dir / "admin.token").read_text().strip()
            address = f"127.0.0.1:{GRPC_PORTS['stations'] + offset}"
            url = f"http://127.0.0.1:{HTTP_PORTS['console'] + offset}"
            await _create_stations(address, token, count)
            shown = await _wait_console(url, token, count)
            result = await _measure(url, token, rounds)
            return {"stations": count, "overview_stations_total": shown, **result}
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
