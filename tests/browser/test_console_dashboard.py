"""The dashboard as an operator uses it: real Chromium, a real stack, simulated stations.

One stack and one browser for the module. Every test leaves a screenshot in
test-results/screenshots/<test>.png (CI keeps them with the results).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from chargegrid.platform.grpc.tokens import Role
from chargegrid.simulator import EVSpec, Station, StationConfig, StopReason, create_station
from tests.browser.conftest import ConsoleStack, Page, eventually, signed_in

pytestmark = pytest.mark.timeout(400)

SITE = "CONSOLE-SITE"
STATIONS = ("CONSOLE-1", "CONSOLE-2")
TAGS = ("CONSOLETAG1", "CONSOLETAG2")
#: Sessions the fleet fixture charged and ended (their energy is in the analytics too).
FINISHED: list[Any] = []
PAGES = [
    "/overview",
    "/stations",
    f"/stations/{STATIONS[0]}",
    "/sessions",
    "/cdrs",
    "/tariffs",
    "/tokens",
    "/firmware",
    f"/energy?site={SITE}",
    "/analytics",
]


async def cli(stack: ConsoleStack, *args: str) -> str:
    return (await asyncio.to_thread(stack.cli, *args)).stdout


@pytest.fixture(scope="module")
async def fleet(console_stack: ConsoleStack) -> AsyncIterator[dict[str, Station]]:
    """Two 2.0.1 stations on one site, registered and idle."""
    await cli(console_stack, "sites", "add", "Console depot", "--id", SITE, "--grid-limit-a", "63")
    stations: dict[str, Station] = {}
    for station_id, tag in zip(STATIONS, TAGS, strict=True):
        await cli(console_stack, "stations", "add", station_id, "--site", SITE)
        await cli(console_stack, "tokens", "add", tag)
        config = StationConfig(station_id=station_id, meter_interval_s=1.0, time_scale=60.0)
        stations[station_id] = create_station("2.0.1", config, console_stack.ocpp_url)
    for station in stations.values():
        await station.start()
    try:
        for station in stations.values():
            await station.wait_registered(30)
        # One finished session first, so the CDR page has a CDR (and the console's session
        # watch has seen a change: see wait_until_current).
        finished = stations[STATIONS[1]].plug_in(1, ev=EVSpec(capacity_kwh=60), id_tag=TAGS[1])
        await asyncio.wait_for(finished.transaction_started.wait(), 30)
        await asyncio.sleep(2)
        finished.request_stop(StopReason.LOCAL)
        await asyncio.wait_for(finished.finished.wait(), 30)
        FINISHED.append(finished)
        await asyncio.to_thread(console_stack.wait_until_current, 90)
        yield stations
    finally:
        for station in stations.values():
            await station.stop()


@pytest.fixture(scope="module")
def viewer_token(console_stack: ConsoleStack) -> str:
    return console_stack.add_api_token("browser-viewer", Role.VIEWER)


async def admin_page(browser: Any, stack: ConsoleStack) -> Page:
    return await signed_in(browser, stack.console_url, stack.admin_token)


async def api(page: Page, method: str, path: str, body: Any = None) -> dict[str, Any]:
    """A request from inside the page, with its token: what a forced click would send."""
    result: dict[str, Any] = await page.page.evaluate(
        """async ([method, path, body]) => {
            const r = await fetch('/api/v1' + path, {method, headers: {
                'Authorization': 'Bearer ' + sessionStorage.getItem('chargegrid.token'),
                'Content-Type': 'application/json'},
                body: body === null ? undefined : JSON.stringify(body)});
            return {status: r.status, body: await r.text()};
        }""",
        [method, path, body],
    )
    return result


async def test_every_page_loads_without_console_errors_or_banners(
    browser: Any, console_stack: ConsoleStack, fleet: dict[str, Station]
) -> None:
    page = await admin_page(browser, console_stack)
    problems: dict[str, list[str]] = {}
    for path in PAGES:
        await page.open(path)
        name = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-")
        await page.screenshot(f"page-{name}")
        banners = await page.page.locator(".banner").all_inner_texts()
        if banners or page.errors:
            problems[path] = banners + page.errors
            page.errors.clear()
    assert problems == {}

    # The CDR page's export downloads the CSV through the API, with the page's token.
    await page.open("/cdrs")
    async with page.page.expect_download() as started:
        await page.page.click("#cdr-export")
    download = await started.value
    assert download.suggested_filename == "cdrs.csv"
    csv_path = await download.path()
    header = (await asyncio.to_thread(Path(csv_path).read_text)).splitlines()[0]
    assert "station_id" in header
    assert page.errors == []
    await page.screenshot("test_every_page_loads_without_console_errors_or_banners")


async def test_a_station_status_and_a_session_energy_change_on_screen_without_reload(
    browser: Any, console_stack: ConsoleStack, fleet: dict[str, Station]
) -> None:
    station_id = STATIONS[0]
    station_page = await admin_page(browser, console_stack)
    await station_page.open(f"/stations/{station_id}")
    status = station_page.page.locator('#connectors tr[data-connector="1/1"] [data-status]')
    assert await status.get_attribute("data-status") == "Available"
    await station_page.page.wait_for_selector('#live-state[data-state="live"]')
    sessions_page = await admin_page(browser, console_stack)
    await sessions_page.open("/sessions")
    await sessions_page.page.wait_for_selector('#live-state[data-state="live"]')

    session = fleet[station_id].plug_in(
        1, ev=EVSpec(capacity_kwh=200, max_power_w=11_000), id_tag=TAGS[0]
    )
    # The status the simulator reports replaces "Available" on the page, within 5 s.
    await eventually(
        lambda: _not_available(status),
        5,
        "the connector's new status",
    )
    await station_page.screenshot("test_station_status_changes_live")

    await asyncio.wait_for(session.transaction_started.wait(), 20)
    energy = sessions_page.page.locator("#sessions tr[data-session] .energy")
    await energy.first.wait_for(timeout=15_000)
    first = float(await energy.first.get_attribute("data-wh") or 0)
    later = await eventually(
        lambda: _energy_above(energy, first), 5, "the session's energy on screen"
    )
    assert later > first
    assert session.energy_wh > 0
    await sessions_page.screenshot("test_session_energy_changes_live")
    assert station_page.errors == []
    assert sessions_page.errors == []


async def _not_available(status: Any) -> str | None:
    value = await status.get_attribute("data-status")
    return value if value and value != "Available" else None


async def _energy_above(energy: Any, first: float) -> float | None:
    value = float(await energy.first.get_attribute("data-wh") or 0)
    return value if value > first else None


async def test_a_reset_from_the_station_page_reaches_the_simulated_station(
    browser: Any, console_stack: ConsoleStack, fleet: dict[str, Station]
) -> None:
    station = fleet[STATIONS[1]]
    page = await admin_page(browser, console_stack)
    await page.open(f"/stations/{STATIONS[1]}")
    await page.page.click('button[data-command="reset"]')
    dialog = page.page.locator("dialog.confirm")
    await dialog.wait_for()
    await page.screenshot("test_reset_confirmation_dialog")
    await dialog.locator("select[name=kind]").select_option("soft")
    await dialog.locator("button[data-confirm]").click()
    await eventually(
        lambda: _journal_has(station, "rebooting"), 15, "the station's reboot after Reset"
    )
    toast = page.page.locator(".toast")
    await toast.wait_for()
    assert "Accepted" in await toast.inner_text()
    await page.screenshot("test_a_reset_from_the_station_page_reaches_the_simulated_station")
    assert page.errors == []
    await station.wait_registered(30)


async def _journal_has(station: Station, text: str) -> bool:
    return any(text in note for _, note in station.journal)


async def test_a_viewer_sees_no_command_and_a_forced_one_is_refused(
    browser: Any, console_stack: ConsoleStack, fleet: dict[str, Station], viewer_token: str
) -> None:
    page = await signed_in(browser, console_stack.console_url, viewer_token)
    await page.open(f"/stations/{STATIONS[0]}")
    assert await page.page.locator("#role").inner_text() == "viewer"
    assert await page.page.locator("[data-command]").count() == 0
    assert await page.page.locator("#connectors tr[data-connector]").count() >= 1
    assert page.errors == []
    forced = await api(page, "POST", f"/stations/{STATIONS[0]}/commands/reset", {"kind": "soft"})
    assert forced["status"] == 403
    assert "viewer" in json.loads(forced["body"])["detail"]
    await page.screenshot("test_a_viewer_sees_no_command_and_a_forced_one_is_refused")


async def test_the_energy_and_analytics_charts_show_the_simulator_data(
    browser: Any, console_stack: ConsoleStack, fleet: dict[str, Station]
) -> None:
    station = fleet[STATIONS[0]]
    if not station.charging.active_sessions():
        station.plug_in(1, ev=EVSpec(capacity_kwh=200, max_power_w=11_000), id_tag=TAGS[0])
    page = await admin_page(browser, console_stack)
    await page.open(f"/energy?site={SITE}")
    read_chart = """id => {
        const canvas = document.querySelector('#' + id + ' canvas');
        const c = window.Chart && canvas ? window.Chart.getChart(canvas) : null;
        if (!c) return null;
        const data = c.data.datasets.map(d => ({label: d.label, data: d.data}));
        return {labels: c.data.labels, data};
    }"""
    # Live points arrive as the site's load changes (meter values every second): wait for the
    # one that carries the simulator's charging current.
    shown = await eventually(
        lambda: _chart_drawing(page, read_chart), 30, "the drawn current on the live chart"
    )
    load = json.loads((await api(page, "GET", f"/energy/sites/{SITE}/load"))["body"])
    limit_l1 = next(d for d in shown["data"] if d["label"].startswith("limit L1"))
    assert limit_l1["data"][-1] == pytest.approx(load["effective_limit_a"]["l1"])
    assert station.charging.active_sessions(), "the simulated EV is still charging"
    await page.screenshot("test_energy_chart_shows_the_simulator_data")

    await page.open(f"/analytics?scope=site:{SITE}")
    chart = await eventually(
        lambda: _chart_with_points(page, read_chart, "energy-chart", 1), 10, "energy chart"
    )
    query = await page.page.get_attribute("#energy-chart", "data-query")
    after = json.loads((await api(page, "GET", f"/analytics/energy?{query}"))["body"])["buckets"]
    assert chart["labels"] == [b["label"] for b in after]
    # The station is still charging: today's bar is at most what the API says a moment later,
    # and no more than the simulator delivered (its sessions are the only ones on this site).
    shown_kwh, api_kwh = chart["data"][0]["data"], [float(b["energy_wh"]) / 1000 for b in after]
    assert shown_kwh[:-1] == pytest.approx(api_kwh[:-1])
    assert 0 < shown_kwh[-1] <= api_kwh[-1] + 1e-9
    charging = [s for st in fleet.values() for s in st.charging.active_sessions()]
    delivered_kwh = sum(s.energy_wh for s in [*charging, *FINISHED])
    assert api_kwh[-1] <= delivered_kwh / 1000 + 0.01
    await page.screenshot("test_the_energy_and_analytics_charts_show_the_simulator_data")
    assert page.errors == []


async def _chart_drawing(page: Page, script: str) -> Any:
    """The live load chart once a point shows current drawn on L1."""
    shown = await page.page.evaluate(script, "site-load-chart")
    if not shown:
        return None
    drawn = next(d for d in shown["data"] if d["label"].startswith("drawn L1"))
    return shown if any(value > 0 for value in drawn["data"]) else None


async def _chart_with_points(page: Page, script: str, chart_id: str, points: int) -> Any:
    shown = await page.page.evaluate(script, chart_id)
    return shown if shown and len(shown["labels"]) >= points else None


async def test_a_service_that_is_down_shows_as_a_banner_not_a_blank_page(
    browser: Any, console_stack: ConsoleStack, fleet: dict[str, Station]
) -> None:
    """Last in the module: the analytics service is killed while its supervisor is paused (so
    it is not restarted at once), then both resume."""
    supervisor = console_stack.process.pid
    os.kill(supervisor, signal.SIGSTOP)
    try:
        os.kill(console_stack.service_pid("analytics"), signal.SIGKILL)
        page = await admin_page(browser, console_stack)
        await page.open(f"/analytics?scope=site:{SITE}")
        banners = page.page.locator(".banner-down")
        assert await banners.count() >= 5, "every analytics section says the service is down"
        assert "analytics service is unavailable" in await banners.first.inner_text()
        assert await page.page.locator("#view h1").inner_text() == "Analytics"
        await page.screenshot("test_a_service_that_is_down_shows_as_a_banner_not_a_blank_page")
        assert [e for e in page.errors if "status of 503" not in e] == []
    finally:
        os.kill(supervisor, signal.SIGCONT)
