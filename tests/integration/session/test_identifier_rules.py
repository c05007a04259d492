"""The Sessions API keeps the product's identifier rules: a station id the gateway would
refuse, a transaction id longer than OCPP's 36 or a connector id out of range is
INVALID_ARGUMENT naming the field, and no transaction id is allocated (SQLite, PostgreSQL)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from sqlalchemy import select

from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.session.models import TransactionIdBlockRow
from tests.integration.session.conftest import Database
from tests.integration.session.test_sessions_api import api  # noqa: F401  (the served API)


async def refused(call: Any) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    return caught.value.details() or ""


async def allocated(db: Database) -> int:
    """Ids reserved so far (the first allocation of a fresh database reserves a block)."""
    async with db.sessions() as session:
        next_id = await session.scalar(select(TransactionIdBlockRow.next_id))
    return int(next_id or 1) - 1


@pytest.mark.parametrize("station_id", ["a/b", "CPé", "C" * 49, "CP\n1"])
async def test_no_transaction_id_is_allocated_for_a_station_id_breaking_the_rule(
    api: tuple[Any, Any],  # noqa: F811
    db: Database,
    station_id: str,
) -> None:
    stub, _ = api

    details = await refused(
        stub.AllocateTransactionId(pb.AllocateTransactionIdRequest(station_id=station_id))
    )

    assert details.startswith("station_id ")
    assert await allocated(db) == 0


async def test_a_connector_id_out_of_range_allocates_nothing(
    api: tuple[Any, Any],  # noqa: F811
    db: Database,
) -> None:
    stub, _ = api
    request = pb.AllocateTransactionIdRequest(station_id="CP1", connector_id=1_000_001)

    details = await refused(stub.AllocateTransactionId(request))

    assert details == "connector_id must be between 0 and 1000, got 1000001"
    assert await allocated(db) == 0


async def test_a_transaction_id_longer_than_36_is_refused(
    api: tuple[Any, Any],  # noqa: F811
) -> None:
    stub, _ = api
    request = pb.GetSessionRequest(station_id="CP1", transaction_id="t" * 37)

    details = await refused(stub.GetSession(request))

    assert details.startswith("transaction_id is longer than 36 characters")


async def test_a_site_filter_breaking_the_rule_is_refused(
    api: tuple[Any, Any],  # noqa: F811
) -> None:
    stub, _ = api

    details = await refused(stub.ListSessions(pb.ListSessionsRequest(site_id="a/b")))

    assert details.startswith("site_id must be only")
