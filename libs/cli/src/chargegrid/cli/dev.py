"""`chargegrid dev`: the whole stack on one machine, as `make run` starts it.

It starts the embedded broker (unless `--kafka` names one; durable by default: its log and
consumer offsets live in a local object store under `var/broker/`, ADR 018), provisions the
topics that are missing (a restarted durable broker still has them), creates
the admin and service API tokens under `var/` on first start, runs every installed service
as its own supervised process on the default ports, waits for each to report SERVING on
gRPC health, prints the endpoints, creates the simulator's id tokens that are missing (so
`chargegrid sim --sessions` charges at once), and on Ctrl-C or SIGTERM stops services, then
the broker. Every endpoint, metrics included, binds to `--host`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

import grpc
from rich.console import Console
from rich.table import Table
from rich.text import Text

from chargegrid.cli.health import wait_serving
from chargegrid.cli.stack import BROKER_PORT, ServiceSpec
from chargegrid.cli.supervisor import ManagedProcess
from chargegrid.platform.bus.topics import default_topic_specs, ensure_topics
from chargegrid.platform.embedded_broker import DURABLE, EmbeddedBroker, wait_for_metadata
from chargegrid.platform.grpc.tokens import ensure_bootstrap_tokens
from chargegrid.platform.object_store import BASE_PORT as STORE_BASE_PORT
from chargegrid.platform.object_store import LocalObjectStore
from chargegrid.platform.procctl import die_with_parent

#: Partitions per topic on the embedded broker. One machine runs one replica of each consumer, so
#: more partitions buy no parallelism there; and the durable store writes each partition of a
#: produce request in turn, so a station's answer waited for every partition its group touched:
#: 50 stations in a closed loop got ~355 answers/s over 8 partitions against ~3,000 over 1
#: (ADR 018). An exported CHARGEGRID_KAFKA_TOPIC_PARTITIONS wins; `--kafka` keeps the default 8.
EMBEDDED_TOPIC_PARTITIONS = 1
PARTITIONS_ENV = "CHARGEGRID_KAFKA_TOPIC_PARTITIONS"

COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_red", "bright_cyan", "white")


class PortInUse(RuntimeError):
    """A default port of the stack is taken by another process."""


@dataclass
class DevOptions:
    var_dir: Path
    kafka: str | None
    services: list[ServiceSpec]
    host: str = "127.0.0.1"
    log_level: str = "INFO"
    port_offset: int = 0
    #: Create the simulator's id tokens (SIMTAG0001...) in the authorization service.
    sim_tokens: bool = True
    #: `durable` (log and offsets on disk under var/broker/) or `memory` (lost on restart).
    broker_storage: str = DURABLE
    #: Services run with a warm spare (chargegrid.platform.spare) that takes over at once.
    warm_spares: frozenset[str] = frozenset()

    @property
    def broker_port(self) -> int:
        return BROKER_PORT + self.port_offset

    def topic_partitions(self) -> int | None:
        """Partitions of the topics the stack creates: None leaves the services' default."""
        if PARTITIONS_ENV in os.environ:
            return int(os.environ[PARTITIONS_ENV])
        return None if self.kafka else EMBEDDED_TOPIC_PARTITIONS

    def object_store(self) -> LocalObjectStore | None:
        """The broker's local S3 store, or None (external Kafka, or memory storage)."""
        if self.kafka or self.broker_storage != DURABLE:
            return None
        return LocalObjectStore(
            self.var_dir.resolve() / "broker", self.host, STORE_BASE_PORT + self.port_offset
        )


def spares_from(value: str, known: list[str]) -> frozenset[str]:
    """--warm-spares: a comma list of service names, 'all' or 'none'."""
    wanted = value.strip().lower()
    if wanted in ("none", ""):
        return frozenset()
    if wanted == "all":
        return frozenset(known)
    names = frozenset(name.strip() for name in wanted.split(",") if name.strip())
    unknown = sorted(names - set(known))
    if unknown:
        raise ValueError(f"unknown service(s): {', '.join(unknown)}")
    return names


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def cli_hint(bin_dir: Path) -> str:
    """How to type `chargegrid` in another shell: the venv's bin is not on PATH by itself."""
    with contextlib.suppress(ValueError):
        bin_dir = bin_dir.resolve().relative_to(Path.cwd().resolve())
    return (
        f"operator commands: {bin_dir / 'chargegrid'} --help "
        f"(or `source {bin_dir / 'activate'}`, then `chargegrid ...`)"
    )


class DevStack:
    """The broker and every service of one `chargegrid dev` run."""

    def __init__(self, options: DevOptions, console: Console) -> None:
        self.options = options
        self.console = console
        self.bootstrap = options.kafka or f"{options.host}:{options.broker_port}"
        self.processes: list[ManagedProcess] = []
        self._colours = {
            spec.name: COLOURS[i % len(COLOURS)] for i, spec in enumerate(options.services)
        }
        self._colours["broker"] = "bright_black"
        self._colours["objectstore"] = "bright_black"

    def sink(self, name: str, line: str) -> None:
        if not self.console.is_terminal:
            # A file or a pipe (CI, the chaos suite): no colours to render, and a plain write
            # costs ~1/300 of rich's, which matters when every service logs at once.
            self.console.file.write(f"{name:>13} | {line}\n")
            self.console.file.flush()  # whoever tails the log sees each line as it comes
            return
        prefix = Text(f"{name:>13} | ", style=self._colours.get(name, "white"))
        self.console.print(prefix + Text(line), highlight=False, soft_wrap=True)

    def _ports_needed(self) -> list[int]:
        ports = [] if self.options.kafka else [self.options.broker_port]
        store = self.options.object_store()
        ports += store.ports() if store else []
        for spec in self.options.services:
            ports += [
                p for p in (spec.grpc_port, spec.metrics_port, spec.http_port, spec.ocpp_port) if p
            ]
        return ports

    def check_ports(self) -> None:
        taken = [p for p in self._ports_needed() if not port_free(self.options.host, p)]
        if taken:
            raise PortInUse(
                f"port(s) {', '.join(map(str, taken))} already in use on {self.options.host}: "
                "is another `make run` still running? "
                "(--kafka HOST:PORT uses an external broker, --port-offset N other ports)"
            )

    def service_env(self, service_token: str) -> dict[str, str]:
        var_dir = self.options.var_dir.resolve()
        ports: dict[str, str] = {}
        for spec in self.options.services:
            ports.update(spec.port_env(self.options.host))
        return {
            # One machine, no operator at hand: unknown stations are registered and accepted
            # so a simulator works out of the box (the Helm chart defaults to pending), and
            # the gateway's fallbacks accept while a deciding service restarts. Defaults
            # only: what the operator exported wins.
            "CHARGEGRID_STATIONS_UNKNOWN_STATION_POLICY": "accept",
            "CHARGEGRID_GATEWAY_BOOT_FALLBACK": "accepted",
            "CHARGEGRID_GATEWAY_AUTHORIZE_FALLBACK": "accepted",
            # A deliberate choice of the one-machine stack only (the gateway and the chart
            # default to true): unknown stations may connect without credentials. A station
            # with a password or a required security profile must still present it.
            "CHARGEGRID_GATEWAY_REQUIRE_BASIC_AUTH": "false",
            # Lines for people on a terminal; JSON (the services' default) when the output
            # goes to a file or a log pipeline.
            "CHARGEGRID_LOG_FORMAT": "console" if sys.stdout.isatty() else "json",
            # A killed service's consumer is back within ~4 s: the embedded broker hands a dead
            # member's partitions on only after its session timeout (ADR 018). Real Kafka
            # needs at least 6 s; the services' default is 10 s.
            **self._group_timeouts(),
            **self._partitions(),
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "CHARGEGRID_VAR_DIR": str(var_dir),
            "CHARGEGRID_API_TOKENS_FILE": str(var_dir / "api-tokens.json"),
            "CHARGEGRID_SERVICE_TOKEN": service_token,
            "CHARGEGRID_LOG_LEVEL": self.options.log_level,
            "CHARGEGRID_GRPC_HOST": self.options.host,
            "CHARGEGRID_OCPP_HOST": self.options.host,
            "CHARGEGRID_HTTP_HOST": self.options.host,
            "CHARGEGRID_METRICS_HOST": self.options.host,
            **ports,
        }

    def _partitions(self) -> dict[str, str]:
        partitions = self.options.topic_partitions()
        return {} if partitions is None else {PARTITIONS_ENV: str(partitions)}

    def _group_timeouts(self) -> dict[str, str]:
        if self.options.kafka:
            return {}
        return {
            "CHARGEGRID_KAFKA_SESSION_TIMEOUT_MS": "3000",
            "CHARGEGRID_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
            # Each commit is an object-store write on the durable broker: at most one a second
            # per group, and at once when a group runs dry (ADR 018).
            "CHARGEGRID_KAFKA_COMMIT_INTERVAL_MS": "1000",
            # A killed embedded broker answers again after 1-2.5 s on a loaded machine
            # (docs/reliability.md); 10 s leaves room and stays far inside a station's
            # 30-60 s call timeout, so a station never sees the restart.
            "CHARGEGRID_GATEWAY_PUBLISH_RETRY_BUDGET_S": "10",
        }

    async def _provision(self) -> None:
        # aiokafka logs each refused probe ("Connect call failed") while the broker starts:
        # alarming, and not an error; a broker that never answers still fails below.
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
        await wait_for_metadata(self.bootstrap, 30)
        partitions = self.options.topic_partitions()
        specs = default_topic_specs() if partitions is None else default_topic_specs(partitions)
        await ensure_topics(self.bootstrap, specs)

    def _broker_process(self, store: LocalObjectStore | None) -> ManagedProcess:
        broker = EmbeddedBroker(
            host=self.options.host, port=self.options.broker_port, object_store=store
        )
        # Back at once after a crash: a restart shorter than the gateway's retry budget is
        # never seen by a station.
        return ManagedProcess(
            "broker", broker.command(), broker.env(), self.sink, self._provision, 0.2
        )

    async def _start_object_store(self, store: LocalObjectStore) -> None:
        store.data_dir.mkdir(parents=True, exist_ok=True)
        # SIGKILL if this supervisor is killed: a lingering store keeps its database locked,
        # and the next `make run` could not open it.
        process = ManagedProcess(
            "objectstore",
            store.command(),
            dict(os.environ),
            self.sink,
            store.wait_ready,
            death_signal=signal.SIGKILL,
        )
        await process.spawn()
        self.processes.append(process)
        await store.wait_ready()

    async def start(self) -> None:
        self.check_ports()
        self.options.var_dir.mkdir(parents=True, exist_ok=True)
        admin_token, service_token = ensure_bootstrap_tokens(self.options.var_dir)
        if not self.options.kafka:
            store = self.options.object_store()
            if store is not None:
                await self._start_object_store(store)
            # After every restart: wait for metadata, create only the topics that are missing.
            broker = self._broker_process(store)
            await broker.spawn()
            self.processes.append(broker)
        await self._provision()
        env = self.service_env(service_token)
        for spec in self.options.services:
            argv = [sys.executable, "-m", spec.module]
            spare = [sys.executable, "-m", "chargegrid.platform.spare", spec.module]
            process = ManagedProcess(
                spec.name,
                argv,
                env,
                self.sink,
                spare_argv=spare if spec.name in self.options.warm_spares else None,
            )
            await process.spawn()
            self.processes.append(process)
        self._tasks = [asyncio.create_task(p.supervise()) for p in self.processes]
        await self._report(admin_token)
        await self._simulator_tokens(admin_token)

    async def _simulator_tokens(self, admin_token: str) -> None:
        authorization = next((s for s in self.options.services if s.name == "authorization"), None)
        if not self.options.sim_tokens or authorization is None:
            return
        from chargegrid.cli.sim_tokens import ensure_simulator_tokens
        from chargegrid.simulator import SIMULATOR_ID_TAGS

        target = f"{self.options.host}:{authorization.grpc_port}"
        try:
            created = await ensure_simulator_tokens(target, admin_token, SIMULATOR_ID_TAGS)
        except grpc.aio.AioRpcError as exc:
            self.console.print(
                f"[yellow]simulator id tokens not created ({exc.code().name}: {exc.details()}); "
                "`chargegrid tokens add SIMTAG0001` adds one by hand[/yellow]",
                soft_wrap=True,
            )
            return
        first, last = SIMULATOR_ID_TAGS[0], SIMULATOR_ID_TAGS[-1]
        if created:
            self.console.print(
                f"created {len(created)} simulator id tokens ({first}..{last}, owner "
                "chargegrid-simulator) for `chargegrid sim --sessions`; --no-sim-tokens skips this",
                soft_wrap=True,
            )
        else:
            self.console.print(f"simulator id tokens {first}..{last} are in place")

    async def _report(self, admin_token: str) -> None:
        host = self.options.host
        table = Table(title="ChargeGrid dev stack", show_lines=False)
        table.add_column("what")
        table.add_column("endpoint")
        table.add_column("status")
        table.add_row("Kafka broker", self.bootstrap, self._broker_status())
        for spec in self.options.services:
            if spec.grpc_port:
                ok = await wait_serving(f"{host}:{spec.grpc_port}")
                status = "SERVING" if ok else "NOT SERVING"
                table.add_row(f"{spec.name} gRPC", f"{host}:{spec.grpc_port}", status)
            if spec.ocpp_port:
                url = f"ws://{host}:{spec.ocpp_port}/ocpp/{{station_id}}"
                table.add_row("OCPP WebSocket", url, "")
            if spec.http_port:
                table.add_row(f"{spec.name} HTTP", f"http://{host}:{spec.http_port}/", "")
        if not self.options.services:
            table.add_row("services", "none installed yet", "")
        self.console.print(table)
        for spec in self.options.services:
            if spec.name == "console" and spec.http_port:
                self.console.print(
                    f"console (dashboard and API): http://{host}:{spec.http_port}/ "
                    "(sign in with the admin API token below)"
                )
        self.console.print(f"admin API token: {admin_token}")
        self.console.print(f"  (stored in {self.options.var_dir / 'admin.token'}; Ctrl-C stops)")
        self.console.print(cli_hint(Path(sys.executable).parent), soft_wrap=True)

    def _broker_status(self) -> str:
        if self.options.kafka:
            return "external"
        store = self.options.object_store()
        if store is None:
            return "up (memory: lost on restart)"
        return f"up (durable: {store.data_dir})"

    async def stop(self) -> None:
        # The services at once (each takes seconds to drain and close; one after another
        # that was half a minute for ten), then the broker and its object store. The object
        # store ignores SIGTERM for a long while; what it acknowledged is on disk already (a
        # SIGKILL loses nothing, ADR 018), so it gets a short grace.
        infrastructure = ("broker", "objectstore")
        services = [p for p in self.processes if p.name not in infrastructure]
        await asyncio.gather(*(process.stop() for process in services))
        for process in reversed(self.processes):
            if process.name in infrastructure:
                await process.stop(grace_s=2.0 if process.name == "objectstore" else 10.0)
        for task in getattr(self, "_tasks", []):
            task.cancel()
        await asyncio.gather(*getattr(self, "_tasks", []), return_exceptions=True)


async def run_dev(options: DevOptions, console: Console) -> int:
    die_with_parent(signal.SIGTERM)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    stack = DevStack(options, console)
    try:
        starting = asyncio.create_task(stack.start())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            starting.result()
            await stopped
        else:
            starting.cancel()
    except PortInUse as exc:
        console.print(f"[red]{exc}[/red]")
        return 2
    finally:
        console.print("stopping ...")
        await stack.stop()
    return 0
