"""`chargegrid tariffs` / `cdrs`: tariffs from files and flags, targets, CSV export."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from chargegrid.api.billing.v1 import billing_pb2 as pb
from chargegrid.api.transaction.v1.events_pb2 import IdToken
from chargegrid.cli.billing_cmd import (
    CSV_COLUMNS,
    cdrs_app,
    target_from,
    tariff_from,
    tariffs_app,
    timestamp,
    to_csv,
)

runner = CliRunner()


def test_flags_make_a_one_element_tariff() -> None:
    tariff = tariff_from(None, energy="0.30", time="2.00", currency="EUR", vat="19")
    assert (tariff.currency, tariff.vat_percent) == ("EUR", "19")
    assert [(c.type, c.price) for c in tariff.elements[0].price_components] == [
        (pb.PRICE_COMPONENT_TYPE_ENERGY, "0.30"),
        (pb.PRICE_COMPONENT_TYPE_TIME, "2.00"),
    ]


def test_a_json_file_in_the_proto_shape_is_read_and_flags_override_it(tmp_path: Path) -> None:
    path = tmp_path / "evening.json"
    path.write_text(
        json.dumps(
            {
                "id": "EVENING",
                "currency": "EUR",
                "vat_percent": "19",
                "elements": [
                    {
                        "price_components": [
                            {
                                "type": "PRICE_COMPONENT_TYPE_ENERGY",
                                "price": "0.40",
                                "step_size": 1000,
                            }
                        ],
                        "restrictions": {"start_time": "18:00", "end_time": "00:00"},
                    }
                ],
            }
        )
    )
    tariff = tariff_from(path, vat="7", flat="1.00")
    assert (tariff.id, tariff.vat_percent, len(tariff.elements)) == ("EVENING", "7", 2)
    assert tariff.elements[0].restrictions.start_time == "18:00"
    assert tariff.elements[0].price_components[0].step_size == 1000


def test_an_unreadable_file_or_no_price_at_all_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(typer.BadParameter, match="cannot read a tariff"):
        tariff_from(broken)
    with pytest.raises(typer.BadParameter, match="--energy"):
        tariff_from(None, currency="EUR")


def test_exactly_one_assignment_target_is_required() -> None:
    assert target_from("S1", None, None, False).site_id == "S1"
    assert target_from(None, None, "FLEET", False).token_group == "FLEET"
    assert target_from(None, None, None, True).default
    with pytest.raises(typer.BadParameter, match="exactly one"):
        target_from("S1", "CP-1", None, False)
    with pytest.raises(typer.BadParameter, match="exactly one"):
        target_from(None, None, None, False)


def test_times_without_an_offset_are_utc() -> None:
    assert timestamp("2026-01-01T10:00", "--from").ToJsonString() == "2026-01-01T10:00:00Z"
    assert timestamp("2026-01-01T10:00+01:00", "--from").ToJsonString() == "2026-01-01T09:00:00Z"
    with pytest.raises(typer.BadParameter):
        timestamp("yesterday", "--from")


def test_cdrs_export_as_one_csv_row_each() -> None:
    cdr = pb.Cdr(
        id="CDR-1",
        session_id="CP-1:1",
        station_id="CP-1",
        id_token=IdToken(id="TAG-1"),
        energy_kwh="11.5",
        timezone="Europe/Berlin",
        cost=pb.CostBreakdown(currency="EUR", total_excl_vat="3.4500", total_incl_vat="4.1100"),
    )
    rows = list(csv.DictReader(io.StringIO(to_csv([cdr]))))
    assert list(rows[0]) == CSV_COLUMNS
    assert (rows[0]["cdr_id"], rows[0]["total_incl_vat"], rows[0]["id_token"]) == (
        "CDR-1",
        "4.1100",
        "TAG-1",
    )


def test_assign_without_a_target_fails_before_any_call(tmp_path: Path) -> None:
    result = runner.invoke(tariffs_app, ["assign", "T1", "--var-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "exactly one" in result.output


def test_an_unreachable_billing_service_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "admin.token").write_text("secret\n")
    result = runner.invoke(
        cdrs_app, ["list", "--var-dir", str(tmp_path), "--address", "127.0.0.1:1"]
    )
    assert result.exit_code == 1
    assert "billing service is not reachable" in result.output
