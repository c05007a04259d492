"""The allocation history: one row per allocation the controller applied (ListAllocations)."""

from __future__ import annotations

import orjson
from google.protobuf.json_format import MessageToDict, ParseDict
from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.api.energy.v1 import energy_pb2 as pb
from chargegrid.energy.convert import stamp
from chargegrid.energy.load import evse_loads
from chargegrid.energy.models import AllocationRow
from chargegrid.energy.snapshot import SiteSnapshot
from chargegrid.energy.store import record_allocation


async def record(session: AsyncSession, snapshot: SiteSnapshot, trigger: str, keep: int) -> None:
    evses = [MessageToDict(e, preserving_proto_field_name=True) for e in evse_loads(snapshot)]
    limit = snapshot.effective_limit_a
    row = AllocationRow(
        site_id=snapshot.site_id,
        at=snapshot.computed_at,
        trigger=trigger[:128],
        limit_l1_a=limit.l1,
        limit_l2_a=limit.l2,
        limit_l3_a=limit.l3,
        evses_json=orjson.dumps(evses).decode(),
    )
    await record_allocation(session, row, keep)


def record_message(row: AllocationRow) -> pb.AllocationRecord:
    return pb.AllocationRecord(
        id=row.id,
        site_id=row.site_id,
        at=stamp(row.at),
        trigger=row.trigger,
        effective_limit_a=pb.PhaseCurrents(l1=row.limit_l1_a, l2=row.limit_l2_a, l3=row.limit_l3_a),
        evses=[ParseDict(e, pb.EvseLoad()) for e in orjson.loads(row.evses_json)],
    )
