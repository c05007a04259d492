"""Entry point of the `chargegrid` command (typer): one sub-command per module."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from chargegrid.cli.billing_cmd import cdrs_app, tariffs_app
from chargegrid.cli.dev import DevOptions, run_dev
from chargegrid.cli.firmware_cmd import firmware_app
from chargegrid.cli.logs_cmd import logs_app, security_events_app
from chargegrid.cli.ops_cmd import ops_app
from chargegrid.cli.sessions_cmd import sessions_app
from chargegrid.cli.sim import sim
from chargegrid.cli.stack import installed_services
from chargegrid.cli.stations_cmd import sites_app, stations_app
from chargegrid.cli.tokens_cmd import tokens_app
from chargegrid.cli.topics_cmd import topics_app

app = typer.Typer(
    name="chargegrid",
    help="ChargeGrid: the dev stack, the simulator and operator commands.",
    no_args_is_help=True,
    add_completion=False,
)
app.command(name="sim")(sim)
app.add_typer(stations_app, name="stations")
app.add_typer(sites_app, name="sites")
app.add_typer(tokens_app, name="tokens")
app.add_typer(topics_app, name="topics")
app.add_typer(sessions_app, name="sessions")
app.add_typer(tariffs_app, name="tariffs")
app.add_typer(cdrs_app, name="cdrs")
app.add_typer(ops_app, name="ops")
app.add_typer(firmware_app, name="firmware")
app.add_typer(logs_app, name="logs")
app.add_typer(security_events_app, name="security-events")


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
) -> None:
    """Run the whole stack on this machine: broker, every installed service, default ports."""
    console = Console()
    try:
        services = installed_services(service, port_offset)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--service") from exc
    options = DevOptions(
        var_dir=var_dir,
        kafka=kafka,
        services=services,
        host=host,
        log_level=log_level,
        port_offset=port_offset,
    )
    raise typer.Exit(asyncio.run(run_dev(options, console)))


if __name__ == "__main__":
    app()
