"""`python -m chargegrid.<service> migrate` migrates and exits; anything else is a usage error."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from chargegrid.platform.entrypoint import service_main
from chargegrid.platform.settings import ServiceSettings

SAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "sample_migrations"


class Settings(ServiceSettings):
    service_name = "sample"


async def never_run(_: Settings) -> None:
    raise AssertionError("the service must not start for `migrate`")


def test_migrate_creates_the_schema_and_does_not_start_the_service(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sample.db'}"
    code = service_main(
        Settings, never_run, database=lambda _: url, migrations=SAMPLE, argv=["migrate"]
    )
    assert code == 0
    tables = sa.inspect(sa.create_engine(url)).get_table_names()
    assert "widgets" in tables


def test_an_unknown_argument_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = service_main(Settings, never_run, migrations=SAMPLE, argv=["bogus"])
    assert code == 2
    assert "usage: python -m chargegrid.sample [migrate]" in capsys.readouterr().err
