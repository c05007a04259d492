"""`chargegrid topics create`: provision every topic of ARCHITECTURE.md on a Kafka cluster.

What the Helm chart's topic Job runs. Connection settings are the services' own
(`KAFKA_BOOTSTRAP_SERVERS`, `CHARGEGRID_KAFKA_SECURITY_PROTOCOL`, SASL, ...), as are the
partition count and replication factor; existing topics are left as they are.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, ClassVar

import typer

from chargegrid.cli.output import out, print_json
from chargegrid.platform.bus.kafka_config import client_kwargs
from chargegrid.platform.bus.topics import default_topic_specs, ensure_topics
from chargegrid.platform.embedded_broker import wait_for_metadata
from chargegrid.platform.settings import ServiceSettings

topics_app = typer.Typer(help="Kafka topics of ChargeGrid.")


class TopicSettings(ServiceSettings):
    service_name: ClassVar[str] = "topics"


@topics_app.command("create")
def create_topics(
    bootstrap: Annotated[
        str | None, typer.Option(help="Kafka bootstrap servers (default: the settings').")
    ] = None,
    partitions: Annotated[int | None, typer.Option(min=1, help="Partitions per topic.")] = None,
    replication: Annotated[int | None, typer.Option(min=1, help="Replication factor.")] = None,
    wait_s: Annotated[float, typer.Option(help="How long to wait for the cluster.")] = 120.0,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create the topics that do not exist yet (idempotent)."""
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
        return await ensure_topics(servers, specs, **kwargs)

    created = asyncio.run(create())
    if json_output:
        print_json({"created": created, "topics": [spec.name for spec in specs]})
    else:
        out.print(f"{len(created)} topic(s) created, {len(specs) - len(created)} already there")
