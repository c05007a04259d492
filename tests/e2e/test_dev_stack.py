"""`chargegrid dev` (what `make run` calls) brings the stack up and leaves nothing behind.

The stack runs on ports moved by a random offset so the test never collides with a
`make run` on the same machine.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from chargegrid.cli.dev import port_free
from chargegrid.cli.stack import BROKER_PORT, installed_services
from chargegrid.platform.embedded_broker import wait_for_metadata

CHARGEGRID = Path(sys.executable).with_name("chargegrid")


def _children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True, check=True)
    pairs = [tuple(map(int, line.split())) for line in out.stdout.splitlines() if line.strip()]
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, ppid in pairs if ppid == parent]
        found += kids
        frontier += kids
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


class Stack:
    def __init__(self, tmp_path: Path) -> None:
        self.offset = random.randrange(1000, 9000, 10)
        self.var_dir = tmp_path / "var"
        self.log = (tmp_path / "dev.log").open("w+")
        self.process = subprocess.Popen(
            [
                str(CHARGEGRID),
                "dev",
                "--var-dir",
                str(self.var_dir),
                "--port-offset",
                str(self.offset),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{BROKER_PORT + self.offset}"

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def wait_for_output(self, text: str, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never printed; output:\n{self.output()}")
            time.sleep(0.2)

    def ports(self) -> list[int]:
        ports = [BROKER_PORT + self.offset]
        for spec in installed_services(port_offset=self.offset):
            ports += [p for p in (spec.grpc_port, spec.http_port, spec.ocpp_port) if p]
        return ports


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path)
    try:
        yield running
    finally:
        if running.process.poll() is None:
            os.killpg(running.process.pid, signal.SIGKILL)
        running.process.wait()


def _wait_gone(pids: list[int], timeout_s: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def test_the_stack_comes_up_answers_and_stops_cleanly_on_sigterm(stack: Stack) -> None:
    stack.wait_for_output("admin API token")
    asyncio.run(wait_for_metadata(stack.bootstrap, 10))

    async def topics() -> set[str]:
        admin = AIOKafkaAdminClient(bootstrap_servers=stack.bootstrap)
        await admin.start()
        try:
            return set(await admin.list_topics())
        finally:
            await admin.close()

    assert {"ocpp.frames.v1", "transaction.events.v1", "station.presence.v1"} <= asyncio.run(
        topics()
    )
    token = (stack.var_dir / "admin.token").read_text().strip()
    assert token in stack.output()
    assert oct((stack.var_dir / "admin.token").stat().st_mode & 0o777) == "0o600"
    for spec in installed_services(port_offset=stack.offset):
        assert f"{spec.name} gRPC" in stack.output()
    assert "NOT SERVING" not in stack.output()

    children = _children_of(stack.process.pid)
    assert children, "the broker should run as a child process"
    stack.process.send_signal(signal.SIGTERM)
    assert stack.process.wait(timeout=30) == 0
    assert _wait_gone(children) == []
    assert all(port_free("127.0.0.1", port) for port in stack.ports())


def test_a_killed_supervisor_takes_its_children_with_it(stack: Stack) -> None:
    stack.wait_for_output("admin API token")
    children = _children_of(stack.process.pid)
    assert children
    os.kill(stack.process.pid, signal.SIGKILL)  # no chance to clean up: the kernel must
    stack.process.wait()
    assert _wait_gone(children) == []


def test_a_second_stack_on_the_same_ports_refuses_to_start(stack: Stack, tmp_path: Path) -> None:
    stack.wait_for_output("admin API token")
    second = subprocess.run(
        [
            str(CHARGEGRID),
            "dev",
            "--var-dir",
            str(tmp_path / "var2"),
            "--port-offset",
            str(stack.offset),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 2
    assert "already in use" in second.stdout
