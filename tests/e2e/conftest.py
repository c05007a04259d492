"""A real `chargegrid dev` stack (what `make run` starts) on ports moved by a random offset,
so e2e tests never collide with a `make run` on the same machine."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chargegrid.cli.stack import BROKER_PORT, OCPP_PORT, installed_services
from chargegrid.platform.object_store import BASE_PORT as STORE_BASE_PORT
from chargegrid.platform.object_store import LocalObjectStore
from chargegrid.platform.settings import GRPC_PORTS

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


SPARE = b"chargegrid.platform.spare"


def _is_spare(pid: int) -> bool:
    """A warm spare still waiting (chargegrid.platform.spare names it so until it takes over)."""
    comm = Path(f"/proc/{pid}/comm")
    return comm.exists() and comm.read_text().startswith("spare-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _free_offset() -> int:
    """A port offset whose every port is free now (the stack refuses busy ports)."""
    from chargegrid.cli.dev import port_free

    for _ in range(50):
        offset = random.randrange(1000, 9000, 10)
        specs = installed_services(port_offset=offset)
        ports = [BROKER_PORT + offset] + [
            p for s in specs for p in (s.grpc_port, s.metrics_port, s.http_port, s.ocpp_port) if p
        ]
        ports += LocalObjectStore(Path(), base_port=STORE_BASE_PORT + offset).ports()
        if all(port_free("127.0.0.1", port) for port in ports):
            return offset
    raise RuntimeError("no free port offset found")


class Stack:
    def __init__(
        self,
        tmp_path: Path,
        env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        *,
        var_dir: Path | None = None,
        offset: int | None = None,
    ) -> None:
        """`var_dir` and `offset`: those of a stopped stack, to start it again as it was."""
        self.offset = _free_offset() if offset is None else offset
        self.var_dir = tmp_path / "var" if var_dir is None else var_dir
        self.log = (tmp_path / "dev.log").open("w+")
        self.process = subprocess.Popen(
            [
                str(CHARGEGRID),
                "dev",
                "--var-dir",
                str(self.var_dir),
                "--port-offset",
                str(self.offset),
                *args,
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Memory storage unless a test asks for the durable default (faster, ADR 018).
            env={"CHARGEGRID_BROKER_STORAGE": "memory", **os.environ, **(env or {})},
        )

    @property
    def ocpp_url(self) -> str:
        return f"ws://127.0.0.1:{OCPP_PORT + self.offset}/ocpp"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{BROKER_PORT + self.offset}"

    def address(self, service: str) -> str:
        return f"127.0.0.1:{GRPC_PORTS[service] + self.offset}"

    @property
    def admin_token(self) -> str:
        return (self.var_dir / "admin.token").read_text().strip()

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `chargegrid ARGS` as an operator would against this stack."""
        env = {
            **os.environ,
            "CHARGEGRID_VAR_DIR": str(self.var_dir),
            **{f"CHARGEGRID_{name.upper()}_ADDRESS": self.address(name) for name in GRPC_PORTS},
        }
        done = subprocess.run(
            [str(CHARGEGRID), *args], env=env, capture_output=True, text=True, timeout=60
        )
        if check and done.returncode != 0:
            raise AssertionError(f"chargegrid {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done

    def stop(self) -> None:
        """SIGTERM the whole stack, SIGKILL what is left after 20 s."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

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

    def service_pid(self, service: str) -> int:
        """The process of one service (the dev stack runs `python -m chargegrid.<service>`)."""
        module = f"chargegrid.{service}"
        for pid in _children_of(self.process.pid):
            cmdline = Path(f"/proc/{pid}/cmdline")
            with contextlib.suppress(OSError):
                argv = cmdline.read_bytes().split(b"\0")
                if _is_spare(pid):
                    continue
                if argv[2:3] == [module.encode()] or argv[2:4] == [SPARE, module.encode()]:
                    return pid
        raise AssertionError(f"no {module} process in the stack")

    def broker_pid(self) -> int:
        """The embedded broker's process (Tansu)."""
        for pid in _children_of(self.process.pid):
            cmdline = Path(f"/proc/{pid}/cmdline")
            argv = cmdline.read_bytes().split(b"\0") if cmdline.exists() else []
            if len(argv) > 1 and b"tansu" in argv[0] and argv[1] == b"broker":
                return pid
        raise AssertionError("no broker process in the stack")

    def restart_service(self, service: str, sig: int = signal.SIGTERM) -> int:
        """Signal one service; the dev supervisor starts it again. Returns the old pid."""
        pid = self.service_pid(service)
        os.kill(pid, sig)
        return pid

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
