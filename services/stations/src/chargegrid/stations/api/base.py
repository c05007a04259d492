"""What every part of the API shares: the dependencies and the station -> proto step."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.stations.api.convert import station_to_proto
from chargegrid.stations.clock import Clock
from chargegrid.stations.gateway import StationCommands
from chargegrid.stations.models import StationRow
from chargegrid.stations.policy import BootPolicy
from chargegrid.stations.reconcile import BackgroundTasks, Reconciler
from chargegrid.stations.store.stations import connectors_of
from chargegrid.stations.watch import StatusHub

if TYPE_CHECKING:
    from chargegrid.stations.certificates.contracts import ContractProvider
    from chargegrid.stations.certificates.issuing import CertificateIssuer
    from chargegrid.stations.certificates.ocsp import OcspForwarder

Context = grpc.aio.ServicerContext[Any, Any]


def _request_ids() -> Callable[[], int]:
    counter = itertools.count(1)
    return lambda: next(counter)


@dataclass
class ApiDeps:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    new_id: Callable[[], str]
    policy: BootPolicy
    commands: StationCommands
    reconciler: Reconciler
    tasks: BackgroundTasks
    hub: StatusHub
    #: GetBaseReport request ids (the station echoes them in NotifyReport).
    request_ids: Callable[[], int] = field(default_factory=_request_ids)
    #: The CSMS CA (ADR 017); None = SignCertificate is refused.
    certificates: CertificateIssuer | None = None
    #: GetCertificateStatus forwarding and the contract-certificate hook (None = Failed).
    ocsp: OcspForwarder | None = None
    contracts: ContractProvider | None = None


class ApiBase:
    deps: ApiDeps

    async def station_message(self, session: AsyncSession, station: StationRow) -> pb.Station:
        connectors = await connectors_of(session, [station.id])
        return station_to_proto(
            station, connectors.get(station.id, []), self.deps.policy.heartbeat_interval_s
        )
