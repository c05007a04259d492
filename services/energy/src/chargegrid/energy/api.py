"""The Energy gRPC API: translates proto <-> rows and snapshots; refusals are DomainErrors.

Every change is checked completely before it is stored (a circuit tree is rebuilt with the
change and must still be a tree; a DR event must not overlap another of its site), and a
stored change rebalances its site at once, so the reply shows its effect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.energy.v1 import energy_pb2 as pb
from chargegrid.api.energy.v1 import energy_pb2_grpc as pb_grpc
from chargegrid.energy import validation
from chargegrid.energy.allocation import EnergyModelError, PhaseCurrents
from chargegrid.energy.controller import SiteUnknown
from chargegrid.energy.convert import demand_response, stamp, time_of
from chargegrid.energy.demand import ENDED, changed_event
from chargegrid.energy.directory import Directory, DirectoryUnavailable, SiteInfo
from chargegrid.energy.history import record_message
from chargegrid.energy.load import site_load
from chargegrid.energy.models import (
    CircuitRow,
    DemandResponseRow,
    GroupPriorityRow,
    SiteSettingsRow,
    StationSettingsRow,
)
from chargegrid.energy.publisher import Publisher
from chargegrid.energy.settings import EnergySettings
from chargegrid.energy.site_model import topology
from chargegrid.energy.snapshot import SiteSnapshot
from chargegrid.energy.store import allocation_page, overlapping_demand_response
from chargegrid.energy.supervisor import Supervisor
from chargegrid.platform.grpc import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from chargegrid.platform.paging import encode_token, page_of

SERVICE_NAME = "chargegrid.api.energy.v1.Energy"
REDUCTIONS = ("limit_a", "limit_kw", "percent")


@dataclass
class ApiDeps:
    sessions: async_sessionmaker[AsyncSession]
    directory: Directory
    supervisor: Supervisor
    publisher: Publisher
    settings: EnergySettings
    clock: Callable[[], datetime]
    new_id: Callable[[], str]


def circuit_message(row: CircuitRow) -> pb.Circuit:
    return pb.Circuit(
        id=row.id,
        site_id=row.site_id,
        parent_id=row.parent_id,
        name=row.name,
        limit_a=pb.PhaseCurrents(l1=row.limit_l1_a, l2=row.limit_l2_a, l3=row.limit_l3_a),
        limit_kw=row.limit_kw,
        nominal_voltage_v=row.nominal_voltage_v,
        created_at=stamp(row.created_at),
    )


def settings_message(row: StationSettingsRow) -> pb.StationSettings:
    return pb.StationSettings(
        station_id=row.station_id,
        site_id=row.site_id,
        node_id=row.node_id,
        max_current_a=row.max_current_a,
        min_current_a=row.min_current_a,
        phases=row.phases,
        rotation=row.rotation.split(","),
        offline_fallback_a=row.offline_fallback_a,
        confirm_with_composite_schedule=bool(row.confirm_composite),
    )


class EnergyService(pb_grpc.EnergyServicer):
    def __init__(self, deps: ApiDeps) -> None:
        self.deps = deps

    async def _site(self, site_id: str) -> SiteInfo:
        site_id = validation.identifier(site_id, "site_id")
        try:
            site = await self.deps.directory.site(site_id)
        except DirectoryUnavailable as exc:
            raise Unavailable(str(exc)) from exc
        if site is None:
            raise NotFound(f"site {site_id!r} does not exist")
        return site

    async def _snapshot(self, site_id: str, trigger: str | None = None) -> SiteSnapshot:
        supervisor = self.deps.supervisor
        try:
            if trigger is None:
                return await supervisor.current(site_id)
            return await supervisor.rebalance_now(site_id, trigger)
        except SiteUnknown as exc:
            raise NotFound(str(exc)) from exc
        except DirectoryUnavailable as exc:
            raise Unavailable(str(exc)) from exc

    # Circuits -------------------------------------------------------------------------

    def _circuit_row(
        self, request: pb.CreateCircuitRequest | pb.UpdateCircuitRequest, circuit_id: str
    ) -> CircuitRow:
        upper = self.deps.settings.max_limit_a
        l1, l2, l3 = validation.limits(request.limit_a, "limit_a", upper)
        return CircuitRow(
            site_id=request.site_id.strip(),
            id=circuit_id,
            parent_id=validation.circuit_id(request.parent_id),
            name=request.name.strip()[:128],
            limit_l1_a=l1,
            limit_l2_a=l2,
            limit_l3_a=l3,
            limit_kw=validation.power_kw(request.limit_kw, "limit_kw"),
            nominal_voltage_v=validation.voltage(request.nominal_voltage_v),
            created_at=self.deps.clock(),
        )

    @staticmethod
    def _check_tree(site_id: str, circuits: list[CircuitRow]) -> None:
        try:
            # Any root limit will do: only the shape of the tree is checked here.
            topology(site_id, PhaseCurrents.uniform(1.0), circuits)
        except EnergyModelError as exc:
            raise InvalidArgument(str(exc)) from exc

    async def _circuits(self, session: AsyncSession, site_id: str) -> list[CircuitRow]:
        query = select(CircuitRow).where(CircuitRow.site_id == site_id).order_by(CircuitRow.id)
        return list(await session.scalars(query))

    async def CreateCircuit(self, request: pb.CreateCircuitRequest, context: Any) -> pb.Circuit:
        site = await self._site(request.site_id)
        circuit_id = validation.circuit_id(request.circuit_id) or self.deps.new_id()
        row = self._circuit_row(request, circuit_id)
        async with self.deps.sessions() as session, session.begin():
            existing = await self._circuits(session, site.site_id)
            if any(c.id == circuit_id for c in existing):
                raise AlreadyExists(f"circuit {circuit_id!r} already exists in {site.site_id!r}")
            if row.parent_id and all(c.id != row.parent_id for c in existing):
                raise NotFound(f"parent circuit {row.parent_id!r} does not exist")
            self._check_tree(site.site_id, [*existing, row])
            session.add(row)
        await self._snapshot(site.site_id, "circuit added")
        return circuit_message(row)

    async def UpdateCircuit(self, request: pb.UpdateCircuitRequest, context: Any) -> pb.Circuit:
        site = await self._site(request.site_id)
        circuit_id = validation.circuit_id(request.circuit_id)
        if not circuit_id:
            raise InvalidArgument("circuit_id is required")
        new = self._circuit_row(request, circuit_id)
        async with self.deps.sessions() as session, session.begin():
            existing = await self._circuits(session, site.site_id)
            row = next((c for c in existing if c.id == circuit_id), None)
            if row is None:
                raise NotFound(f"circuit {circuit_id!r} does not exist in {site.site_id!r}")
            if new.parent_id and all(c.id != new.parent_id for c in existing):
                raise NotFound(f"parent circuit {new.parent_id!r} does not exist")
            new.created_at = row.created_at
            self._check_tree(site.site_id, [c for c in existing if c.id != circuit_id] + [new])
            for column in ("parent_id", "name", "limit_l1_a", "limit_l2_a", "limit_l3_a"):
                setattr(row, column, getattr(new, column))
            row.limit_kw, row.nominal_voltage_v = new.limit_kw, new.nominal_voltage_v
        await self._snapshot(site.site_id, "circuit changed")
        return circuit_message(row)

    async def ListCircuits(
        self, request: pb.ListCircuitsRequest, context: Any
    ) -> pb.ListCircuitsReply:
        site_id = validation.identifier(request.site_id, "site_id")
        async with self.deps.sessions() as session:
            rows = await self._circuits(session, site_id)
        return pb.ListCircuitsReply(circuits=[circuit_message(r) for r in rows])

    async def DeleteCircuit(
        self, request: pb.DeleteCircuitRequest, context: Any
    ) -> pb.DeleteCircuitReply:
        site_id = validation.identifier(request.site_id, "site_id")
        circuit_id = validation.identifier(request.circuit_id, "circuit_id")
        async with self.deps.sessions() as session, session.begin():
            existing = await self._circuits(session, site_id)
            row = next((c for c in existing if c.id == circuit_id), None)
            if row is None:
                raise NotFound(f"circuit {circuit_id!r} does not exist in {site_id!r}")
            children = [c.id for c in existing if c.parent_id == circuit_id]
            stations = list(
                await session.scalars(
                    select(StationSettingsRow.station_id)
                    .where(StationSettingsRow.site_id == site_id)
                    .where(StationSettingsRow.node_id == circuit_id)
                )
            )
            if children or stations:
                raise FailedPrecondition(
                    f"circuit {circuit_id!r} still feeds circuits {children} and stations "
                    f"{stations}; move them first"
                )
            await session.delete(row)
        await self._snapshot(site_id, "circuit removed")
        return pb.DeleteCircuitReply()

    # Limits and load ------------------------------------------------------------------

    async def SetLimit(self, request: pb.SetLimitRequest, context: Any) -> pb.SetLimitReply:
        site = await self._site(request.site_id)
        limit = validation.current(request.limit_a, "limit_a", self.deps.settings.max_limit_a)
        policy = validation.policy(request.policy) if request.policy else None
        async with self.deps.sessions() as session, session.begin():
            row = await session.get(SiteSettingsRow, site.site_id)
            if row is None:
                row = SiteSettingsRow(site_id=site.site_id, policy="fair")
                session.add(row)
            row.operator_limit_a = limit
            row.policy = policy or row.policy
            row.updated_at = self.deps.clock()
        snapshot = await self._snapshot(site.site_id, "limit changed")
        warnings: list[str] = []
        if site.grid_limit_a and limit > site.grid_limit_a:
            warnings.append(
                f"the grid connection allows {site.grid_limit_a:g} A per phase: "
                "that stays the limit"
            )
        paused = snapshot.paused
        if paused:
            minimums = sum(e.min_current_a for e in snapshot.evses)
            warnings.append(
                f"{paused} EVSE(s) paused: the minimums of all charging EVSEs "
                f"({minimums:g} A) do not fit under {snapshot.effective_limit_a.l1:g} A"
            )
        return pb.SetLimitReply(load=site_load(snapshot), paused_evses=paused, warnings=warnings)

    async def GetSiteLoad(self, request: pb.GetSiteLoadRequest, context: Any) -> pb.SiteLoad:
        site = await self._site(request.site_id)
        return site_load(await self._snapshot(site.site_id))

    async def WatchSiteLoad(
        self, request: pb.GetSiteLoadRequest, context: Any
    ) -> AsyncIterator[pb.SiteLoad]:
        site = await self._site(request.site_id)
        first = await self._snapshot(site.site_id)
        yield site_load(first)
        async for snapshot in self.deps.supervisor.controller(site.site_id).changes():
            if snapshot is not first:
                yield site_load(snapshot)

    async def ListAllocations(
        self, request: pb.ListAllocationsRequest, context: Any
    ) -> pb.ListAllocationsReply:
        site_id = validation.identifier(request.site_id, "site_id")
        page = page_of(request.page)
        before = int(page.after) if page.after is not None else None
        async with self.deps.sessions() as session:
            rows = await allocation_page(session, site_id, before, page.size)
        token = encode_token(rows[-1].id) if len(rows) == page.size else ""
        return pb.ListAllocationsReply(
            allocations=[record_message(r) for r in rows], next_page_token=token
        )

    # Demand response ------------------------------------------------------------------

    def _reduction(self, request: pb.CreateDemandResponseRequest) -> tuple[str, float]:
        kind = request.WhichOneof("reduced")
        if kind is None:
            raise InvalidArgument("a reduced limit is required: limit_a, limit_kw or percent")
        value = float(getattr(request, kind))
        if kind == "limit_a":
            validation.current(value, "limit_a", self.deps.settings.max_limit_a)
        elif kind == "limit_kw":
            validation.power_kw(value, "limit_kw")
        elif not 0 <= value <= 100:
            raise InvalidArgument(f"percent must be 0..100, got {value:g}")
        return kind, value

    async def CreateDemandResponse(
        self, request: pb.CreateDemandResponseRequest, context: Any
    ) -> pb.DemandResponseEvent:
        site = await self._site(request.site_id)
        kind, value = self._reduction(request)
        start, end = time_of(request.start), time_of(request.end)
        now = self.deps.clock()
        if start is None or end is None:
            raise InvalidArgument("start and end are required")
        if end <= start:
            raise InvalidArgument("end must be after start")
        if end <= now:
            raise InvalidArgument("the event is over already (end is in the past)")
        async with self.deps.sessions() as session, session.begin():
            clash = await overlapping_demand_response(session, site.site_id, start, end)
            if clash is not None:
                raise FailedPrecondition(
                    f"overlaps demand response {clash.id!r} ({clash.starts_at.isoformat()} to "
                    f"{clash.ends_at.isoformat()}); cancel it first"
                )
            row = DemandResponseRow(
                id=self.deps.new_id(),
                site_id=site.site_id,
                starts_at=start,
                ends_at=end,
                kind=kind,
                value=value,
                state="scheduled",
                source=(request.source.strip() or "operator")[:128],
                created_at=now,
            )
            session.add(row)
        await self._snapshot(site.site_id, "demand response added")
        async with self.deps.sessions() as session:
            stored = await session.get(DemandResponseRow, row.id)
        return demand_response(stored or row)

    async def ListDemandResponses(
        self, request: pb.ListDemandResponsesRequest, context: Any
    ) -> pb.ListDemandResponsesReply:
        query = select(DemandResponseRow).order_by(DemandResponseRow.starts_at)
        if request.site_id:
            query = query.where(DemandResponseRow.site_id == request.site_id)
        if not request.include_past:
            query = query.where(DemandResponseRow.state.in_(("scheduled", "active")))
        async with self.deps.sessions() as session:
            rows = list(await session.scalars(query))
        return pb.ListDemandResponsesReply(events=[demand_response(r) for r in rows])

    async def CancelDemandResponse(
        self, request: pb.CancelDemandResponseRequest, context: Any
    ) -> pb.DemandResponseEvent:
        event_id = validation.identifier(request.id, "id")
        async with self.deps.sessions() as session, session.begin():
            row = await session.get(DemandResponseRow, event_id)
            if row is None:
                raise NotFound(f"demand response {event_id!r} does not exist")
            if row.state not in ("scheduled", "active"):
                raise FailedPrecondition(f"demand response {event_id!r} is {row.state} already")
            was_active = row.state == "active"
            row.state = "cancelled"
        if was_active:
            await self.deps.publisher.publish(ENDED, changed_event(row))
        await self._snapshot(row.site_id, "demand response cancelled")
        return demand_response(row)

    # Priorities and station settings ----------------------------------------------------

    async def SetPriority(self, request: pb.SetPriorityRequest, context: Any) -> pb.GroupPriority:
        group_id = validation.identifier(request.group_id, "group_id")
        if not -1000 <= request.priority <= 1000:
            raise InvalidArgument(f"priority must be -1000..1000, got {request.priority}")
        weight = request.weight or 1.0
        if not 0 < weight <= 100:
            raise InvalidArgument(f"weight must be above 0 and at most 100, got {weight:g}")
        async with self.deps.sessions() as session, session.begin():
            row = await session.get(GroupPriorityRow, group_id)
            if row is None:
                row = GroupPriorityRow(group_id=group_id)
                session.add(row)
            row.priority, row.weight = request.priority, weight
        for site_id in list(self.deps.supervisor.controllers):
            self.deps.supervisor.controller(site_id).wake("priority changed")
        return pb.GroupPriority(group_id=group_id, priority=row.priority, weight=row.weight)

    async def ListPriorities(
        self, request: pb.ListPrioritiesRequest, context: Any
    ) -> pb.ListPrioritiesReply:
        async with self.deps.sessions() as session:
            rows = await session.scalars(
                select(GroupPriorityRow).order_by(GroupPriorityRow.group_id)
            )
            return pb.ListPrioritiesReply(
                priorities=[
                    pb.GroupPriority(group_id=r.group_id, priority=r.priority, weight=r.weight)
                    for r in rows
                ]
            )

    async def _station_site(self, station_id: str) -> str:
        station_id = validation.identifier(station_id, "station_id")
        try:
            info = await self.deps.directory.station(station_id)
        except DirectoryUnavailable as exc:
            raise Unavailable(str(exc)) from exc
        if info is None:
            raise NotFound(f"station {station_id!r} does not exist")
        return info.site_id

    async def SetStationSettings(
        self, request: pb.SetStationSettingsRequest, context: Any
    ) -> pb.StationSettings:
        wanted = request.settings
        site_id = await self._station_site(wanted.station_id)
        rotation = validation.station_settings(wanted)
        node_id = validation.circuit_id(wanted.node_id)
        async with self.deps.sessions() as session, session.begin():
            if node_id:
                circuit = await session.get(CircuitRow, (site_id, node_id))
                if circuit is None:
                    raise NotFound(f"circuit {node_id!r} does not exist in site {site_id!r}")
            row = await session.get(StationSettingsRow, wanted.station_id.strip())
            if row is None:
                row = StationSettingsRow(station_id=wanted.station_id.strip())
                session.add(row)
            row.site_id, row.node_id = site_id, node_id
            row.max_current_a, row.min_current_a = wanted.max_current_a, wanted.min_current_a
            row.phases, row.rotation = wanted.phases, ",".join(rotation)
            row.offline_fallback_a = wanted.offline_fallback_a
            row.confirm_composite = wanted.confirm_with_composite_schedule
        if site_id:
            await self._snapshot(site_id, "station settings changed")
        return settings_message(row)

    async def GetStationSettings(
        self, request: pb.GetStationSettingsRequest, context: Any
    ) -> pb.StationSettings:
        site_id = await self._station_site(request.station_id)
        async with self.deps.sessions() as session:
            row = await session.get(StationSettingsRow, request.station_id.strip())
        if row is not None:
            return settings_message(row)
        s = self.deps.settings
        return pb.StationSettings(
            station_id=request.station_id.strip(),
            site_id=site_id,
            max_current_a=s.default_max_current_a,
            min_current_a=s.default_min_current_a,
            phases=s.default_phases,
            rotation=["L1", "L2", "L3"][: s.default_phases],
            offline_fallback_a=s.default_offline_fallback_a,
        )
