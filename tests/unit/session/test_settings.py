"""The GetTransactionStatus settings: on by default, the gateway found where every service
finds it, and nonsense refused at start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chargegrid.session.settings import SessionSettings


def test_checks_are_on_by_default_and_the_gateway_address_is_the_shared_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHARGEGRID_GATEWAY_ADDRESS", "gateway:50051")
    settings = SessionSettings()
    assert settings.transaction_status_checks is True
    assert settings.gateway_address == "gateway:50051"
    monkeypatch.setenv("CHARGEGRID_SESSION_TRANSACTION_STATUS_CHECKS", "false")
    assert SessionSettings().transaction_status_checks is False


@pytest.mark.parametrize(
    ("key", "value"),
    [("TRANSACTION_STATUS_TIMEOUT_S", "0"), ("TRANSACTION_STATUS_MAX_PENDING", "0")],
)
def test_a_deadline_or_queue_of_zero_is_refused(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str
) -> None:
    monkeypatch.setenv(f"CHARGEGRID_SESSION_{key}", value)
    with pytest.raises(ValidationError, match=key.lower()):
        SessionSettings()
