"""Database constraint refusals reach callers as statuses, the same for every service and on
SQLite as on PostgreSQL: a duplicate key is ALREADY_EXISTS, a missing reference
FAILED_PRECONDITION, a value too long for its column (PostgreSQL) INVALID_ARGUMENT; the
message names no table, constraint, SQL or driver class."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import Column, ForeignKey, MetaData, String, Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as pb_grpc
from chargegrid.platform.db import create_engine
from chargegrid.platform.grpc import GrpcServer, Role, TokenRegistry, create_channel

metadata = MetaData()
parents = Table("refusal_parents", metadata, Column("id", String(8), primary_key=True))
children = Table(
    "refusal_children",
    metadata,
    Column("id", String(8), primary_key=True),
    Column("parent_id", String(8), ForeignKey("refusal_parents.id"), nullable=False),
)


class Writer(pb_grpc.StationControlServicer):
    """Call(action=table, payload_json=id[:parent]) inserts one row, nothing checked first."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def Call(self, request: pb.RawCallRequest, context: Any) -> pb.RawCallReply:
        key, _, parent = request.payload_json.partition(":")
        async with self.engine.begin() as connection:
            if request.action == "parent":
                await connection.execute(insert(parents).values(id=key))
            else:
                await connection.execute(insert(children).values(id=key, parent_id=parent))
        return pb.RawCallReply(payload_json="{}")


@pytest.fixture
async def writer_stub(database_url: str, tmp_path: Path) -> AsyncIterator[Any]:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    registry = TokenRegistry(tmp_path / "tokens.json")
    token = registry.add("admin", Role.ADMIN)
    server = GrpcServer("127.0.0.1", 0, registry)
    server.add(
        pb_grpc.add_StationControlServicer_to_server,
        Writer(engine),
        "chargegrid.api.gateway.v1.StationControl",
    )
    port = await server.start()
    channel = create_channel(f"127.0.0.1:{port}", token=token, max_attempts=1)
    yield pb_grpc.StationControlStub(channel)
    await channel.close()
    await server.stop(0.2)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.drop_all)
    await engine.dispose()


async def refusal(stub: Any, action: str, payload: str) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.Call(pb.RawCallRequest(station_id="CP1", action=action, payload_json=payload))
    return refused.value


def assert_no_internals(details: str) -> None:
    for leaked in ("refusal_", "INSERT", "constraint", "Error", "class", "sqlite", "asyncpg"):
        assert leaked not in details


async def test_a_duplicate_key_is_already_exists(writer_stub: Any) -> None:
    await writer_stub.Call(pb.RawCallRequest(station_id="CP1", action="parent", payload_json="p1"))

    refused = await refusal(writer_stub, "parent", "p1")

    assert refused.code() == grpc.StatusCode.ALREADY_EXISTS
    assert refused.details() == "a record with the same key already exists"
    assert_no_internals(refused.details() or "")


async def test_a_reference_to_a_missing_record_is_a_failed_precondition(writer_stub: Any) -> None:
    refused = await refusal(writer_stub, "child", "c1:nobody")

    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "does not exist" in (refused.details() or "")
    assert_no_internals(refused.details() or "")


async def test_a_value_too_long_for_its_column_is_an_invalid_argument(
    writer_stub: Any, database_url: str
) -> None:
    if "sqlite" in database_url:
        pytest.skip("SQLite does not enforce VARCHAR lengths; the APIs check them first")

    refused = await refusal(writer_stub, "parent", "much-longer-than-eight")

    assert refused.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.details() == "a value does not fit the field it is stored in"
