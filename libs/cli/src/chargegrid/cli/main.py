"""Entry point of the `chargegrid` command (typer): one sub-command per module.

The groups are imported only when run (`lazy.py`), so `--help`, `--version` and a simple
list start fast enough for an operator's script of many calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chargegrid.cli.lazy import LazyGroup, LazyTyperGroup
from chargegrid.cli.sim import sim


class ChargegridGroup(LazyTyperGroup):
    groups = {
        "stations": LazyGroup(
            "chargegrid.cli.stations_cmd",
            "stations_app",
            "Stations of the network: list, inspect, approve, passwords.",
        ),
        "sites": LazyGroup(
            "chargegrid.cli.stations_cmd", "sites_app", "Sites (locations) that group stations."
        ),
        "tokens": LazyGroup(
            "chargegrid.cli.tokens_cmd",
            "tokens_app",
            "Id tokens (RFID cards, eMAIDs, app tokens) and their status.",
        ),
        "topics": LazyGroup(
            "chargegrid.cli.topics_cmd", "topics_app", "Kafka topics of ChargeGrid."
        ),
        "sessions": LazyGroup(
            "chargegrid.cli.sessions_cmd",
            "sessions_app",
            "Charging sessions: list, inspect, watch live.",
        ),
        "tariffs": LazyGroup(
            "chargegrid.cli.billing_cmd",
            "tariffs_app",
            "Tariffs (OCPI-style): add, list, show, assign.",
        ),
        "cdrs": LazyGroup(
            "chargegrid.cli.billing_cmd",
            "cdrs_app",
            "Charge detail records: list, show, export as CSV.",
        ),
        "ops": LazyGroup(
            "chargegrid.cli.ops_cmd",
            "ops_app",
            "Commands to one station or a whole selection, with a result table.",
        ),
        "firmware": LazyGroup(
            "chargegrid.cli.firmware_cmd",
            "firmware_app",
            "Firmware: image catalog, station updates, campaigns.",
        ),
        "logs": LazyGroup(
            "chargegrid.cli.logs_cmd",
            "logs_app",
            "Diagnostics and security logs: request, list, download.",
        ),
        "energy": LazyGroup(
            "chargegrid.cli.energy_cmd",
            "energy_app",
            "Energy: site limits, circuits, demand response, priorities.",
        ),
        "analytics": LazyGroup(
            "chargegrid.cli.analytics_cmd",
            "analytics_app",
            "Energy, peaks, revenue, sessions, utilization, uptime, status; rebuild.",
        ),
        "roaming": LazyGroup(
            "chargegrid.cli.roaming_cmd",
            "roaming_app",
            "Roaming (OCPI 2.2.1): partners, registration, push status, resync.",
        ),
        "security-events": LazyGroup(
            "chargegrid.cli.logs_cmd",
            "security_events_app",
            "Security events stations reported.",
        ),
    }


app = typer.Typer(
    name="chargegrid",
    help="ChargeGrid: the dev stack, the simulator and operator commands.",
    no_args_is_help=True,
    add_completion=False,
    cls=ChargegridGroup,
    rich_markup_mode=None,
)
app.command(name="sim")(sim)


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version("chargegrid-cli")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        print(f"chargegrid {version()}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """ChargeGrid: the dev stack, the simulator and operator commands."""


@app.command()
def dev(
    kafka: Annotated[
        str | None,
        typer.Option(help="Use this Kafka cluster (HOST:PORT) instead of the embedded broker."),
    ] = None,
    var_dir: Annotated[
        Path, typer.Option(envvar="CHARGEGRID_VAR_DIR", help="Where SQLite files, tokens live.")
    ] = Path("var"),
    service: Annotated[
        list[str] | None,
        typer.Option("--service", help="Start only these services (repeatable)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address every endpoint binds to.")] = "127.0.0.1",
    log_level: Annotated[str, typer.Option(help="Log level of the services.")] = "INFO",
    port_offset: Annotated[
        int, typer.Option(help="Move every default port by this much (a second stack).")
    ] = 0,
    sim_tokens: Annotated[
        bool,
        typer.Option(
            "--sim-tokens/--no-sim-tokens",
            help="Create the simulator's id tokens (SIMTAG0001..SIMTAG0100) when missing.",
        ),
    ] = True,
    broker_storage: Annotated[
        str,
        typer.Option(
            envvar="CHARGEGRID_BROKER_STORAGE",
            help="Embedded broker storage: durable (log and offsets kept under VAR_DIR/broker) "
            "or memory (lost when the broker restarts).",
        ),
    ] = "durable",
    warm_spares: Annotated[
        str,
        typer.Option(
            envvar="CHARGEGRID_DEV_WARM_SPARES",
            help="Services kept with a warm spare process (imports done, ~95 MB each) that "
            "takes over at once when the service dies: a comma list, 'all' or 'none'.",
        ),
    ] = "gateway,stations,authorization,session,billing",
) -> None:
    """Run the whole stack on this machine: broker, every installed service, default ports."""
    import asyncio

    from rich.console import Console

    from chargegrid.cli.dev import DevOptions, run_dev, spares_from
    from chargegrid.cli.stack import installed_services
    from chargegrid.platform.embedded_broker import STORAGE_ENV, storage_from_env

    console = Console()
    try:
        broker_storage = storage_from_env({STORAGE_ENV: broker_storage})
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--broker-storage") from exc
    try:
        services = installed_services(service, port_offset)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--service") from exc
    try:
        spares = spares_from(warm_spares, [s.name for s in installed_services()])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--warm-spares") from exc
    options = DevOptions(
        var_dir=var_dir,
        kafka=kafka,
        services=services,
        host=host,
        log_level=log_level,
        port_offset=port_offset,
        sim_tokens=sim_tokens,
        broker_storage=broker_storage,
        warm_spares=spares,
    )
    raise typer.Exit(asyncio.run(run_dev(options, console)))


if __name__ == "__main__":
    app()
