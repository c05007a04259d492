"""`chargegrid dev` runs the broker durable unless told otherwise, and refuses a bad choice."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from chargegrid.cli.dev import DevOptions, DevStack
from chargegrid.cli.main import app


def options(tmp_path: Path, **overrides: object) -> DevOptions:
    return DevOptions(var_dir=tmp_path / "var", kafka=None, services=[], **overrides)  # type: ignore[arg-type]


def test_the_default_stack_keeps_its_log_under_var_broker(tmp_path: Path) -> None:
    store = options(tmp_path, port_offset=100).object_store()
    assert store is not None
    assert store.data_dir == (tmp_path / "var").resolve() / "broker"
    assert store.s3_port == 9333 + 100
    stack = DevStack(options(tmp_path, port_offset=100), Console())
    assert set(store.ports()) <= set(stack._ports_needed())


def test_memory_storage_or_an_external_kafka_runs_no_object_store(tmp_path: Path) -> None:
    assert options(tmp_path, broker_storage="memory").object_store() is None
    external = DevOptions(var_dir=tmp_path, kafka="kafka:9092", services=[])
    assert external.object_store() is None


def test_a_misspelt_broker_storage_is_refused_before_anything_starts(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["dev", "--var-dir", str(tmp_path / "var"), "--broker-storage", "disk"]
    )
    assert result.exit_code == 2
    assert "expected one of durable, memory" in result.output
    assert not (tmp_path / "var").exists()
