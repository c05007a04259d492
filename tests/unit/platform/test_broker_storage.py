"""Choosing the embedded broker's storage, and the consumer-group timeouts `make run` sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from chargegrid.platform.bus.consumer import ConsumerConfig
from chargegrid.platform.embedded_broker import EmbeddedBroker, storage_from_env
from chargegrid.platform.object_store import LocalObjectStore


def test_the_broker_is_durable_unless_memory_is_asked_for() -> None:
    assert storage_from_env({}) == "durable"
    assert storage_from_env({"CHARGEGRID_BROKER_STORAGE": " Memory "}) == "memory"


def test_a_misspelt_storage_is_refused_with_the_variable_named() -> None:
    with pytest.raises(ValueError, match="CHARGEGRID_BROKER_STORAGE='disk'"):
        storage_from_env({"CHARGEGRID_BROKER_STORAGE": "disk"})


def test_a_durable_broker_stores_on_the_local_object_store(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path, base_port=12000)
    broker = EmbeddedBroker(port=12100, object_store=store)
    assert broker.command()[-1] == "s3://tansu/"
    assert broker.env()["AWS_ENDPOINT"] == "http://127.0.0.1:12003"
    assert f"-dir={tmp_path}" in store.command()
    assert sorted(store.ports()) == [12000, 12001, 12002, 12003, 22000, 22001, 22002, 22003]
    assert EmbeddedBroker(port=12100).command()[-1] == "memory://tansu/"


def test_group_timeouts_come_from_the_shared_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARGEGRID_KAFKA_SESSION_TIMEOUT_MS", "3000")
    monkeypatch.setenv("CHARGEGRID_KAFKA_HEARTBEAT_INTERVAL_MS", "500")
    config = ConsumerConfig("127.0.0.1:9092", "group", ["topic"])
    assert (config.session_timeout_ms, config.heartbeat_interval_ms) == (3000, 500)


def test_a_group_timeout_that_is_no_number_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARGEGRID_KAFKA_SESSION_TIMEOUT_MS", "3s")
    with pytest.raises(ValueError, match="CHARGEGRID_KAFKA_SESSION_TIMEOUT_MS"):
        ConsumerConfig("127.0.0.1:9092", "group", ["topic"])
