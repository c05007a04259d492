"""A real authorization service on a free port, with fake stations and gateway servers.

The fakes run on the platform's GrpcServer with the same token registry, so the service's
calls go through real auth, deadlines and error mapping. The fake gateway remembers every
SendLocalList and answers what a test scripts per station; stations not connected get
NOT_FOUND, as from the real gateway.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest

from chargegrid.api.authorization.v1 import authorization_pb2 as pb
from chargegrid.api.authorization.v1.authorization_pb2_grpc import AuthorizationStub
from chargegrid.api.gateway.v1 import station_control_pb2 as sc_pb
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as sc_grpc
from chargegrid.api.stations.v1 import stations_pb2 as st_pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as st_grpc
from chargegrid.authorization.app import AuthorizationApp
from chargegrid.authorization.settings import AuthorizationSettings
from chargegrid.platform.grpc import GrpcServer, NotFound, Role, TokenRegistry, create_channel

STATIONS = "chargegrid.api.stations.v1.Stations"
STATION_CONTROL = "chargegrid.api.gateway.v1.StationControl"


class FakeStations(st_grpc.StationsServicer):
    def __init__(self) -> None:
        self.site_of: dict[str, str] = {}
        self.offline: set[str] = set()

    async def GetStation(self, request: st_pb.GetStationRequest, context: Any) -> st_pb.Station:
        if request.station_id not in self.site_of:
            raise NotFound(f"no station {request.station_id}")
        return st_pb.Station(id=request.station_id, site_id=self.site_of[request.station_id])

    async def ListStations(
        self, request: st_pb.ListStationsRequest, context: Any
    ) -> st_pb.ListStationsReply:
        ids = sorted(s for s, site in self.site_of.items() if site == request.site_id)
        if request.online == "online":
            ids = [s for s in ids if s not in self.offline]
        start = int(request.page.page_token or 0)
        size = request.page.page_size or 100
        page = ids[start : start + size]
        more = start + size < len(ids)
        return st_pb.ListStationsReply(
            stations=[st_pb.Station(id=s, site_id=request.site_id, online=True) for s in page],
            next_page_token=str(start + size) if more else "",
            total=len(ids),
        )


@dataclass
class FakeGateway(sc_grpc.StationControlServicer):
    online: set[str] = field(default_factory=set)
    #: Station id -> what it answers SendLocalList (popped; then "Accepted").
    answers: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    versions: dict[str, int] = field(default_factory=dict)
    sent: list[sc_pb.SendLocalListRequest] = field(default_factory=list)
    cleared: list[str] = field(default_factory=list)

    def sent_to(self, station_id: str) -> list[sc_pb.SendLocalListRequest]:
        return [r for r in self.sent if r.station_id == station_id]

    def _connected(self, station_id: str) -> None:
        if station_id not in self.online:
            raise NotFound(f"station {station_id} is not connected")

    async def SendLocalList(
        self, request: sc_pb.SendLocalListRequest, context: Any
    ) -> sc_pb.CommandReply:
        self._connected(request.station_id)
        self.sent.append(request)
        scripted = self.answers[request.station_id]
        status = scripted.pop(0) if scripted else "Accepted"
        if status == "Accepted":
            self.versions[request.station_id] = request.version
        return sc_pb.CommandReply(status=status)

    async def GetLocalListVersion(
        self, request: sc_pb.GetLocalListVersionRequest, context: Any
    ) -> sc_pb.GetLocalListVersionReply:
        self._connected(request.station_id)
        return sc_pb.GetLocalListVersionReply(version=self.versions.get(request.station_id, 0))

    async def ClearCache(
        self, request: sc_pb.ClearCacheRequest, context: Any
    ) -> sc_pb.CommandReply:
        self._connected(request.station_id)
        self.cleared.append(request.station_id)
        return sc_pb.CommandReply(status="Accepted")


@dataclass
class Fakes:
    registry: TokenRegistry
    tokens: dict[Role, str]
    stations: FakeStations
    gateway: FakeGateway
    stations_address: str
    gateway_address: str


@pytest.fixture
async def fakes(tmp_path: Path) -> AsyncIterator[Fakes]:
    registry = TokenRegistry(tmp_path / "api-tokens.json")
    tokens = {role: registry.add(role.value, role) for role in Role}
    stations, gateway = FakeStations(), FakeGateway()
    stations_server = GrpcServer("127.0.0.1", 0, registry)
    stations_server.add(st_grpc.add_StationsServicer_to_server, stations, STATIONS)
    gateway_server = GrpcServer("127.0.0.1", 0, registry)
    gateway_server.add(sc_grpc.add_StationControlServicer_to_server, gateway, STATION_CONTROL)
    stations_port = await stations_server.start()
    gateway_port = await gateway_server.start()
    yield Fakes(
        registry,
        tokens,
        stations,
        gateway,
        f"127.0.0.1:{stations_port}",
        f"127.0.0.1:{gateway_port}",
    )
    await stations_server.stop(0.1)
    await gateway_server.stop(0.1)


@dataclass
class Service:
    app: AuthorizationApp
    fakes: Fakes
    channels: list[grpc.aio.Channel] = field(default_factory=list)

    def stub(self, role: Role = Role.OPERATOR) -> Any:
        channel = create_channel(
            f"127.0.0.1:{self.app.grpc_port}", token=self.fakes.tokens[role], max_attempts=1
        )
        self.channels.append(channel)
        return AuthorizationStub(channel)

    async def settled(self) -> None:
        """Wait until every queued local-list push has run."""
        await self.app.local_lists.queue.idle()


def settings_for(database_url: str, fakes: Fakes, tmp_path: Path, **more: Any) -> Any:
    values: dict[str, Any] = {
        "database_url": database_url,
        "grpc_host": "127.0.0.1",
        "grpc_port": 0,
        "api_tokens_file": fakes.registry.path,
        "var_dir": tmp_path,
        "stations_address": fakes.stations_address,
        "gateway_address": fakes.gateway_address,
        "service_token": fakes.tokens[Role.SERVICE],
        "consume_events": False,
        "refresh_interval_s": 0.1,
        "audit_flush_interval_s": 0.05,
        "call_timeout_s": 3.0,
        **more,
    }
    return AuthorizationSettings(**values)


ServiceFactory = Callable[..., Any]


@pytest.fixture
async def make_service(
    database_url: str, fakes: Fakes, tmp_path: Path
) -> AsyncIterator[ServiceFactory]:
    started: list[Service] = []

    async def make(consumer_options: dict[str, Any] | None = None, **more: Any) -> Service:
        app = AuthorizationApp(
            settings_for(database_url, fakes, tmp_path, **more), consumer_options=consumer_options
        )
        await app.start()
        service = Service(app, fakes)
        started.append(service)
        return service

    yield make
    for service in started:
        for channel in service.channels:
            await channel.close()
        await service.app.stop()


@pytest.fixture
async def service(make_service: ServiceFactory) -> Service:
    return await make_service()  # type: ignore[no-any-return]


def a_token(id_token: str = "TAG-1", **fields: Any) -> pb.Token:
    return pb.Token(id_token=id_token, type=pb.TOKEN_TYPE_ISO14443, **fields)


def ref(id_token: str, kind: int = pb.TOKEN_TYPE_ISO14443) -> pb.TokenRef:
    return pb.TokenRef(id_token=id_token, type=kind)  # type: ignore[arg-type]


async def eventually(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(0.02)
