"""`chargegrid dev` (what `make run` calls) brings the stack up and leaves nothing behind.

The stack runs on ports moved by a random offset so the test never collides with a
`make run` on the same machine.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from chargegrid.cli.dev import port_free
from chargegrid.cli.stack import installed_services
from chargegrid.platform.embedded_broker import wait_for_metadata
from tests.e2e.conftest import CHARGEGRID, Stack, _alive, _children_of


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
        if spec.grpc_port:
            assert f"{spec.name} gRPC" in stack.output()
        if spec.http_port:
            assert f"{spec.name} HTTP" in stack.output()
    assert f"console (dashboard and API): http://127.0.0.1:{8080 + stack.offset}/" in stack.output()
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


def _listening_hosts(port: int) -> set[str]:
    """The IPv4 addresses something listens on at `port` (from /proc/net/tcp)."""
    hosts = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, _, state = line.split()[1:4]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
            hosts.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return hosts


def test_the_readmes_simulator_gets_tokens_and_charges_several_cars_at_once(
    stack: Stack,
) -> None:
    stack.wait_for_output("simulator id tokens", timeout_s=120)
    output = stack.output()
    assert "created 100 simulator id tokens (SIMTAG0001..SIMTAG0100" in output
    assert "Connect call failed" not in output
    assert "Unable connect" not in output
    assert "operator commands: " in output
    for spec in installed_services(port_offset=stack.offset):
        if spec.metrics_port:
            assert _listening_hosts(spec.metrics_port) == {"127.0.0.1"}, spec.name

    listed = json.loads(stack.cli("tokens", "list", "--json").stdout)
    assert {t["id_token"] for t in listed} >= {f"SIMTAG{n:04d}" for n in range(1, 101)}

    sim_args = ["--url", stack.ocpp_url, "--stations", "10", "--ocpp", "2.0.1", "--sessions"]
    sim = subprocess.Popen(
        [str(CHARGEGRID), "sim", *sim_args, "--duration", "60"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        most_active = 0
        deadline = time.monotonic() + 55
        while time.monotonic() < deadline and most_active < 5:
            time.sleep(3)
            active = stack.cli("sessions", "list", "--status", "active", "--json").stdout
            most_active = max(most_active, len(json.loads(active)))
        assert most_active >= 5
    finally:
        os.killpg(sim.pid, signal.SIGTERM)
        sim.wait(30)
