"""The Billing gRPC servicer: translates protos to domain calls and back, nothing more.

Validation raises `InvalidArgument`/`NotFound` (mapped to status codes by the platform's
error interceptor) before any write, so a refused request changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.billing.v1 import billing_pb2 as pb
from chargegrid.api.billing.v1 import billing_pb2_grpc as pb_grpc
from chargegrid.billing import validation
from chargegrid.billing.clock import Clock, IdFactory
from chargegrid.billing.convert import (
    assignment_proto,
    breakdown_proto,
    cdr_proto,
    from_stamp,
    tariff_proto,
)
from chargegrid.billing.domain.tariffs import Assignment
from chargegrid.billing.estimates import estimate
from chargegrid.billing.paging import decode_int_token, decode_token, encode_token, page_size
from chargegrid.billing.store import cdrs
from chargegrid.billing.store import tariffs as store
from chargegrid.platform.grpc.errors import AlreadyExists, InvalidArgument, NotFound

SERVICE_NAME = "chargegrid.api.billing.v1.Billing"


@dataclass
class ApiDeps:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    new_id: IdFactory


class BillingService(pb_grpc.BillingServicer):
    def __init__(self, deps: ApiDeps) -> None:
        self.deps = deps

    async def CreateTariff(self, request: pb.CreateTariffRequest, context: Any) -> pb.Tariff:
        now = self.deps.clock()
        tariff_id = validation.tariff_id(request.tariff.id) if request.tariff.id else ""
        tariff = validation.tariff(
            request.tariff,
            tariff_id=tariff_id or self.deps.new_id(),
            version=1,
            effective_from=from_stamp(request.tariff.effective_from) or now,
            created_at=now,
        )
        async with self.deps.sessions() as session, session.begin():
            if await store.latest_version(session, tariff.id):
                raise AlreadyExists(f"tariff {tariff.id!r} exists; UpdateTariff adds a version")
            await store.add_version(session, tariff)
        return tariff_proto(tariff)

    async def UpdateTariff(self, request: pb.UpdateTariffRequest, context: Any) -> pb.Tariff:
        now = self.deps.clock()
        tariff_id = validation.tariff_id(request.tariff.id)
        async with self.deps.sessions() as session, session.begin():
            latest = await store.latest_version(session, tariff_id)
            if not latest:
                raise NotFound(f"no tariff {tariff_id!r}")
            tariff = validation.tariff(
                request.tariff,
                tariff_id=tariff_id,
                version=latest + 1,
                effective_from=from_stamp(request.tariff.effective_from) or now,
                created_at=now,
            )
            await store.add_version(session, tariff)
        return tariff_proto(tariff)

    async def GetTariff(self, request: pb.GetTariffRequest, context: Any) -> pb.Tariff:
        validation.tariff_id(request.tariff_id, "tariff_id")
        if request.version < 0:
            raise InvalidArgument("version: 0 (the newest) or a version number")
        async with self.deps.sessions() as session:
            tariff = await store.get_version(session, request.tariff_id, request.version)
        if tariff is None:
            version = f" version {request.version}" if request.version else ""
            raise NotFound(f"no tariff {request.tariff_id!r}{version}")
        return tariff_proto(tariff)

    async def ListTariffs(
        self, request: pb.ListTariffsRequest, context: Any
    ) -> pb.ListTariffsReply:
        size = page_size(request.page)
        after = decode_token(request.page.page_token)
        async with self.deps.sessions() as session:
            found = await store.list_latest(session, after, size + 1)
        more = len(found) > size
        found = found[:size]
        return pb.ListTariffsReply(
            tariffs=[tariff_proto(t) for t in found],
            next_page_token=encode_token(found[-1].id) if more else "",
        )

    async def AssignTariff(
        self, request: pb.AssignTariffRequest, context: Any
    ) -> pb.TariffAssignment:
        validation.tariff_id(request.tariff_id, "tariff_id")
        target = validation.target(request.target)
        now = self.deps.clock()
        assignment = Assignment(
            self.deps.new_id(),
            request.tariff_id,
            target,
            from_stamp(request.effective_from) or now,
        )
        async with self.deps.sessions() as session, session.begin():
            if not await store.latest_version(session, request.tariff_id):
                raise NotFound(f"no tariff {request.tariff_id!r}")
            await store.add_assignment(session, assignment, now)
        return assignment_proto(assignment)

    async def ListAssignments(
        self, request: pb.ListAssignmentsRequest, context: Any
    ) -> pb.ListAssignmentsReply:
        async with self.deps.sessions() as session:
            found = await store.assignments(session, request.tariff_id)
        return pb.ListAssignmentsReply(assignments=[assignment_proto(a) for a in found])

    async def EstimateCost(self, request: pb.EstimateCostRequest, context: Any) -> pb.CostBreakdown:
        session_id = request.session_id
        if not session_id:
            if not (request.station_id and request.transaction_id):
                raise InvalidArgument("give session_id, or station_id and transaction_id")
            session_id = validation.session_of(request.station_id, request.transaction_id)
        async with self.deps.sessions() as session:
            cost = await estimate(session, session_id, self.deps.clock())
        return breakdown_proto(cost)

    async def GetCdr(self, request: pb.GetCdrRequest, context: Any) -> pb.Cdr:
        if not (request.cdr_id or request.session_id):
            raise InvalidArgument("give cdr_id or session_id")
        async with self.deps.sessions() as session:
            if request.cdr_id:
                found = await cdrs.by_id(session, request.cdr_id)
            else:
                found = await cdrs.by_session(session, request.session_id)
        if found is None:
            raise NotFound(f"no CDR for {request.cdr_id or request.session_id!r}")
        return cdr_proto(found)

    async def ListCdrs(self, request: pb.ListCdrsRequest, context: Any) -> pb.ListCdrsReply:
        size = page_size(request.page)
        after = decode_int_token(request.page.page_token)
        station_id, site_id = validation.cdr_filters(request.station_id, request.site_id)
        where = cdrs.CdrFilter(
            station_id=station_id,
            site_id=site_id,
            id_token=request.id_token,
            since=from_stamp(request.since),
            until=from_stamp(request.until),
        )
        async with self.deps.sessions() as session:
            found, cursor, total = await cdrs.page(session, where, after, size)
        return pb.ListCdrsReply(
            cdrs=[cdr_proto(c) for c in found],
            next_page_token=encode_token(str(cursor)) if cursor is not None else "",
            total=total,
        )
