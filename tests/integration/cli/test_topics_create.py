"""`chargegrid topics create` provisions every topic once, against a real broker."""

from __future__ import annotations

import asyncio
import json

from aiokafka.admin import AIOKafkaAdminClient
from typer.testing import CliRunner

from chargegrid.cli.main import app
from chargegrid.platform.bus.topics import STATION_PRESENCE, default_topic_specs


async def _existing(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


def test_topics_are_created_and_a_second_run_changes_nothing(kafka_bootstrap: str) -> None:
    runner = CliRunner()
    args = ["topics", "create", "--bootstrap", kafka_bootstrap, "--partitions", "2", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    expected = {spec.name for spec in default_topic_specs()}
    assert set(json.loads(first.output)["topics"]) == expected
    existing = asyncio.run(_existing(kafka_bootstrap))
    assert expected <= existing
    assert STATION_PRESENCE in existing
    second = runner.invoke(app, args)
    assert second.exit_code == 0, second.output
    assert json.loads(second.output)["created"] == []
