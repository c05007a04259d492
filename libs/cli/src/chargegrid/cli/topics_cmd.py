"""`chargegrid topics create`: provision every topic of ARCHITECTURE.md on a Kafka cluster.

What the Helm chart's topic Job runs. Connection settings are the services' own
(`KAFKA_BOOTSTRAP_SERVERS`, `CHARGEGRID_KAFKA_SECURITY_PROTOCOL`, SASL, ...), as are the
partition count and replication factor; existing topics are left as they are. A cluster
that does not answer within `--wait-s` ends the command with one line and exit code 1 (the
Kafka client's own per-attempt connection errors are not shown).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer

from chargegrid.cli.api import err
from chargegrid.cli.output import out, print_json

topics_app = typer.Typer(help="Kafka topics of ChargeGrid.")


@topics_app.command("create")
def create_topics(
    bootstrap: Annotated[
        str | None, typer.Option(help="Kafka bootstrap servers (default: the settings').")
    ] = None,
    partitions: Annotated[int | None, typer.Option(min=1, help="Partitions per topic.")] = None,
    replication: Annotated[int | None, typer.Option(min=1, help="Replication factor.")] = None,
    wait_s: Annotated[
        float, typer.Option(min=0.1, help="How long to wait for the cluster to answer.")
    ] = 15.0,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create the topics that do not exist yet (idempotent)."""
    # Imported here: the bus and the settings are heavy, and `chargegrid --help` lists this.
    from chargegrid.platform.bus.kafka_config import client_kwargs
    from chargegrid.platform.bus.topics import default_topic_specs, ensure_topics
    from chargegrid.platform.embedded_broker import BrokerStartError, wait_for_metadata
    from chargegrid.platform.settings import ServiceSettings

    class TopicSettings(ServiceSettings):
        service_name = "topics"

    settings = TopicSettings()
    if bootstrap:
        settings.kafka_bootstrap_servers = bootstrap
    kwargs = client_kwargs(settings)
    servers = kwargs.pop("bootstrap_servers")
    specs = default_topic_specs(
        partitions or settings.kafka_topic_partitions,
        replication or settings.kafka_replication_factor,
    )

    async def create() -> list[str]:
        if not kwargs.get("sasl_mechanism") and kwargs["security_protocol"] == "PLAINTEXT":
            await wait_for_metadata(servers, wait_s)
        return await asyncio.wait_for(ensure_topics(servers, specs, **kwargs), wait_s)

    # aiokafka logs every failed connection attempt: hundreds of lines while waiting.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    try:
        created = asyncio.run(create())
    except Exception as exc:  # unreachable, refused, timed out, auth: one line, exit 1
        silent = isinstance(exc, TimeoutError | BrokerStartError)
        reason = "no answer" if silent else f"{type(exc).__name__}: {exc}"
        err.print(f"error: Kafka at {servers} is not reachable within {wait_s:g} s: {reason}")
        raise typer.Exit(1) from None
    if json_output:
        print_json({"created": created, "topics": [spec.name for spec in specs]})
    else:
        out.print(f"{len(created)} topic(s) created, {len(specs) - len(created)} already there")
