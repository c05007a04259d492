"""Desired configuration, its per-station state, reconciling, and device-model reports."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chargegrid.api.common.v1.common_pb2 import OCPP_VERSION_16
from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.stations.api import validation as check
from chargegrid.stations.api.base import ApiBase, Context
from chargegrid.stations.api.convert import reported_to_proto, stamp
from chargegrid.stations.gateway import CommandRefused, StationUnreachable
from chargegrid.stations.reconcile import IN_SYNC, OFFLINE, applies_to
from chargegrid.stations.store import configuration as config
from chargegrid.stations.store.paging import next_token, page_of
from chargegrid.stations.store.sites import get_site
from chargegrid.stations.store.stations import get_station

PENDING = "pending"


async def _check_target(session: AsyncSession, scope: config.Scope) -> None:
    if scope.kind == config.STATION:
        await get_station(session, scope.value)
    elif scope.kind == config.SITE:
        await get_site(session, scope.value)


def _scope_message(scope: config.Scope) -> pb.ConfigurationScope:
    field = {config.STATION: "station_id", config.SITE: "site_id"}.get(scope.kind, "vendor_model")
    return pb.ConfigurationScope(**{field: scope.value})


def _desired_message(scope: config.Scope, entries: dict[str, str]) -> pb.DesiredConfiguration:
    return pb.DesiredConfiguration(
        scope=_scope_message(scope),
        entries=[pb.ConfigurationEntry(key=k, value=v) for k, v in entries.items()],
    )


async def configuration_state(session: AsyncSession, station_id: str) -> pb.ConfigurationState:
    station = await get_station(session, station_id)
    effective = await config.effective_desired(session, station)
    states = await config.config_states(session, station_id)
    reported = await config.reported_values(session, station_id)
    reply = pb.ConfigurationState(station_id=station_id)
    for key, desired in effective.items():
        if not applies_to(key, station.ocpp_version):
            continue
        state = states.get(key)
        now_reported = reported.get(key, state.reported_value if state else None)
        if state is not None and state.desired_value == desired.value:
            status = state.status
        else:
            status = IN_SYNC if now_reported == desired.value else PENDING
        item = reply.keys.add(
            key=key,
            desired_value=desired.value,
            desired_from=desired.source,
            reported_value=now_reported or "",
            status=status,
        )
        if state is not None:
            stamp(item.applied_at, state.applied_at)
    return reply


class ConfigurationApi(ApiBase):
    async def SetDesiredConfiguration(
        self, request: pb.SetDesiredConfigurationRequest, context: Context
    ) -> pb.DesiredConfiguration:
        scope = check.scope(request.scope, request.HasField("scope"))
        entries = check.entries(list(request.entries))
        async with self.deps.sessions() as session, session.begin():
            await _check_target(session, scope)
            stored = await config.set_desired(session, scope, entries, request.replace)
            targets = await config.stations_in_scope(session, scope) if request.apply_now else []
        for station_id in targets:
            work = self.deps.reconciler.reconcile(station_id)
            self.deps.tasks.spawn(f"reconcile:{station_id}", work)
        return _desired_message(scope, stored)

    async def GetDesiredConfiguration(
        self, request: pb.GetDesiredConfigurationRequest, context: Context
    ) -> pb.DesiredConfiguration:
        scope = check.scope(request.scope, request.HasField("scope"))
        async with self.deps.sessions() as session:
            await _check_target(session, scope)
            return _desired_message(scope, await config.get_desired(session, scope))

    async def GetConfigurationState(
        self, request: pb.GetConfigurationStateRequest, context: Context
    ) -> pb.ConfigurationState:
        station_id = check.station_id(request.station_id, "station_id")
        async with self.deps.sessions() as session:
            return await configuration_state(session, station_id)

    async def ReconcileConfiguration(
        self, request: pb.ReconcileConfigurationRequest, context: Context
    ) -> pb.ConfigurationState:
        station_id = check.station_id(request.station_id, "station_id")
        await self.deps.reconciler.reconcile(station_id)
        async with self.deps.sessions() as session:
            return await configuration_state(session, station_id)

    async def ListReportedVariables(
        self, request: pb.ListReportedVariablesRequest, context: Context
    ) -> pb.ListReportedVariablesReply:
        station_id = check.station_id(request.station_id, "station_id")
        page = page_of(request.page)
        async with self.deps.sessions() as session:
            await get_station(session, station_id)
            rows = await config.list_reported(session, station_id, request.prefix, page)
        return pb.ListReportedVariablesReply(
            variables=[reported_to_proto(row) for row in rows[: page.size]],
            next_page_token=next_token([row.key for row in rows], page),
        )

    async def RequestReport(
        self, request: pb.RequestReportRequest, context: Context
    ) -> pb.RequestReportReply:
        station_id = check.station_id(request.station_id, "station_id")
        async with self.deps.sessions() as session:
            version = (await get_station(session, station_id)).ocpp_version
        if not version:
            return pb.RequestReportReply(status=OFFLINE)
        try:
            if version == OCPP_VERSION_16:
                return await self._read_configuration_16(station_id)
            request_id = self.deps.request_ids()
            answer = await self.deps.commands.call(
                station_id,
                "GetBaseReport",
                {"requestId": request_id, "reportBase": "FullInventory"},
            )
        except StationUnreachable:
            return pb.RequestReportReply(status=OFFLINE)
        except CommandRefused as refused:
            return pb.RequestReportReply(status=refused.status)
        return pb.RequestReportReply(status=str(answer.get("status", "")), request_id=request_id)

    async def _read_configuration_16(self, station_id: str) -> pb.RequestReportReply:
        """1.6 has no reports: GetConfiguration without keys is the whole inventory."""
        read = await self.deps.commands.get_configuration(station_id, [])
        values = [config.Reported(k, v, ro) for k, (v, ro) in read.values.items()]
        async with self.deps.sessions() as session, session.begin():
            await get_station(session, station_id)
            await config.store_reported(session, station_id, values, self.deps.clock())
        return pb.RequestReportReply(status="Accepted")
