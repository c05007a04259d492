"""Browser tests: the console's dashboard in real Chromium (playwright) against one real
`chargegrid dev` stack per module, with simulated stations.

Chromium comes from apt (`/usr/bin/chromium`; playwright cannot download browsers here).
Without it the tests skip with the reason, except on CI (CI=true), where they fail.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chargegrid.cli.stack import HTTP_PORTS
from chargegrid.platform.grpc.tokens import Role, TokenRegistry
from tests.e2e.conftest import Stack

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "screenshots"
#: Answers a page expects and handles (Chromium still logs every non-2xx fetch as a console
#: error): (path suffix, status). A station that never had a firmware update is a 404.
EXPECTED_FAILED_LOADS = {("/firmware", 404)}
#: Session updates at most every 2 s (default 30 s), so live energy shows within 5 s.
STACK_ENV = {"CHARGEGRID_SESSION_UPDATE_INTERVAL_S": "2"}


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    require_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


class ConsoleStack(Stack):
    @property
    def console_url(self) -> str:
        return f"http://127.0.0.1:{HTTP_PORTS['console'] + self.offset}"

    def add_api_token(self, name: str, role: Role) -> str:
        return TokenRegistry.load(self.var_dir / "api-tokens.json").add(name, role)

    def wait_for_console(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{self.console_url}/healthz", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the console never answered; output:\n{self.output()}")
            time.sleep(0.3)

    def wait_until_current(self, timeout_s: float) -> None:
        """Until the overview answers with no degraded part: the stack prints the admin
        token before every service listens, and the console's live mirror retries with
        backoff until they do. (Its watch streams clear their start-up error only once they
        deliver a change: the fleet fixture makes one of each kind first.)"""
        deadline = time.monotonic() + timeout_s
        last = "no answer"
        request = urllib.request.Request(
            f"{self.console_url}/api/v1/overview",
            headers={"Authorization": f"Bearer {self.admin_token}"},
        )
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as reply:
                    overview = json.loads(reply.read())
                    if not overview["degraded"]:
                        return
                    last = f"degraded {overview['degraded']}"
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the console is not ready ({last}); output:\n{self.output()}")
            time.sleep(0.5)


@pytest.fixture(scope="module")
def console_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStack]:
    require_chromium()
    stack = ConsoleStack(tmp_path_factory.mktemp("console-stack"), env=STACK_ENV)
    try:
        stack.wait_for_output("admin API token", 150)
        stack.wait_for_console()
        yield stack
    finally:
        stack.stop()


@dataclass
class Page:
    """A signed-in page that collects every console error and uncaught exception."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)

    async def open(self, hash_path: str) -> None:
        await self.page.goto(f"{self.base}/#{hash_path}")
        name = hash_path.strip("/").split("/")[0].split("?")[0] or "overview"
        expected = "station" if name == "stations" and "/" in hash_path.strip("/") else name
        await self.page.wait_for_function(
            "name => document.body.dataset.ready === name", arg=expected, timeout=20_000
        )

    def on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = str((message.location or {}).get("url", "")).split("?")[0]
        for suffix, status in EXPECTED_FAILED_LOADS:
            if url.endswith(suffix) and f"status of {status}" in message.text:
                return
        self.errors.append(f"console.error: {message.text} ({url})")

    async def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=str(path), full_page=True)
        return path


async def signed_in(browser: Any, base: str, token: str) -> Page:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    await context.add_init_script(f"sessionStorage.setItem('chargegrid.token', {token!r})")
    page = await context.new_page()
    collected = Page(page, base)
    page.on("console", collected.on_console)
    page.on("pageerror", lambda e: collected.errors.append(f"pageerror: {e}"))
    return collected


async def eventually(check: Any, timeout_s: float, what: str) -> Any:
    """Polls the async `check()` until it returns a truthy value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:g} s (last {value!r})")
        await asyncio.sleep(0.1)
