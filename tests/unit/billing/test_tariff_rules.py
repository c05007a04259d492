"""Which tariff applies: the most specific assignment, the version in force at the start."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chargegrid.api.billing.v1 import billing_pb2 as pb
from chargegrid.billing import validation
from chargegrid.billing.domain.money import money_text, quantity_text, round_total
from chargegrid.billing.domain.tariffs import (
    Assignment,
    SessionKeys,
    Target,
    TargetKind,
    applicable_assignment,
    version_in_force,
)
from chargegrid.platform.grpc.errors import InvalidArgument
from tests.unit.billing.builders import a_tariff, element, energy

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KEYS = SessionKeys("CP-1", "S1", "FLEET")


def assigned(kind: TargetKind, value: str = "", days: int = 0, name: str = "") -> Assignment:
    return Assignment(name or kind.value, "T", Target(kind, value), T0 + timedelta(days=days))


def test_the_most_specific_assignment_in_force_wins() -> None:
    choices = [
        assigned(TargetKind.DEFAULT),
        assigned(TargetKind.SITE, "S1"),
        assigned(TargetKind.STATION, "CP-1"),
        assigned(TargetKind.TOKEN_GROUP, "FLEET", days=10),
    ]
    assert applicable_assignment(choices, KEYS, T0 + timedelta(days=1)).id == "station"  # type: ignore[union-attr]
    assert applicable_assignment(choices, KEYS, T0 + timedelta(days=11)).id == "token_group"  # type: ignore[union-attr]
    other = SessionKeys("CP-9", "S9")
    assert applicable_assignment(choices, other, T0).id == "default"  # type: ignore[union-attr]


def test_the_newest_of_equally_specific_assignments_wins() -> None:
    choices = [
        assigned(TargetKind.SITE, "S1", name="old"),
        assigned(TargetKind.SITE, "S1", days=5, name="new"),
    ]
    assert applicable_assignment(choices, KEYS, T0 + timedelta(days=6)).id == "new"  # type: ignore[union-attr]
    assert applicable_assignment(choices, KEYS, T0 + timedelta(days=1)).id == "old"  # type: ignore[union-attr]


def test_a_session_keeps_the_version_in_force_when_it_started() -> None:
    v1 = replace(a_tariff(element(energy("0.30"))), version=1, effective_from=T0)
    v2 = replace(v1, version=2, effective_from=T0 + timedelta(days=3))
    assert version_in_force([v1, v2], T0 + timedelta(days=1)) == v1
    assert version_in_force([v1, v2], T0 + timedelta(days=3)) == v2
    assert version_in_force([v2], T0) is None


def test_money_shows_four_decimals_and_totals_round_half_up_once() -> None:
    assert round_total(Decimal("4.1055"), "EUR") == Decimal("4.11")
    assert round_total(Decimal("4.105"), "EUR") == Decimal("4.11")
    assert money_text(Decimal("4.11")) == "4.1100"
    assert quantity_text(Decimal("1.5000")) == "1.5"
    assert quantity_text(Decimal(21)) == "21"


@pytest.mark.parametrize(
    ("text", "message"),
    [("1e3", "not a decimal"), ("NaN", "not a decimal"), ("-1", "negative"), (" ", "required")],
)
def test_prices_are_plain_non_negative_decimals(text: str, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        validation.decimal(text, "price", required=True)


def test_an_empty_target_or_tariff_without_elements_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"target\.site_id"):
        validation.target(pb.AssignmentTarget(site_id=""))
    with pytest.raises(InvalidArgument, match="at least one element"):
        validation.tariff(
            pb.Tariff(currency="EUR"), tariff_id="T", version=1, effective_from=T0, created_at=T0
        )
