"""A migrated database per test (SQLite and PostgreSQL), the Firmware API served in process
on a free port with its HTTP upload endpoint, talking over real gRPC to a fake gateway and to
fake stations and session services (`Peers`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from chargegrid.api.firmware.v1 import firmware_pb2_grpc as pb_grpc
from chargegrid.api.gateway.v1 import station_control_pb2 as ctl
from chargegrid.api.gateway.v1 import station_control_pb2_grpc as ctl_grpc
from chargegrid.api.session.v1 import session_pb2 as se
from chargegrid.api.session.v1 import session_pb2_grpc as se_grpc
from chargegrid.api.stations.v1 import stations_pb2 as st
from chargegrid.api.stations.v1 import stations_pb2_grpc as st_grpc
from chargegrid.firmware.api import SERVICE_NAME, FirmwareService
from chargegrid.firmware.app import MIGRATIONS
from chargegrid.firmware.campaigns import Campaigns
from chargegrid.firmware.charging import GrpcChargingSessions
from chargegrid.firmware.gateway import GatewayCommands
from chargegrid.firmware.http import Uploads, create_http_app
from chargegrid.firmware.models import CampaignRow, StationUpdateRow
from chargegrid.firmware.runner import CampaignRunner
from chargegrid.firmware.stations import GrpcStationDirectory
from chargegrid.firmware.updates import ApiDeps
from chargegrid.platform.db import create_engine, session_factory
from chargegrid.platform.grpc import GrpcServer, Role, TokenRegistry, create_channel
from chargegrid.platform.http_server import HttpServer
from chargegrid.platform.migrations import upgrade

STATION_CONTROL = "chargegrid.api.gateway.v1.StationControl"
STATIONS = "chargegrid.api.stations.v1.Stations"
SESSIONS = "chargegrid.api.session.v1.Sessions"
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    async def rows(self) -> tuple[int, int]:
        """(campaigns, station updates) stored: bad input must leave both unchanged."""
        async with self.sessions() as session:
            campaigns = await session.scalar(select(func.count()).select_from(CampaignRow))
            updates = await session.scalar(select(func.count()).select_from(StationUpdateRow))
        return int(campaigns or 0), int(updates or 0)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    engine = create_engine(database_url)
    await upgrade(engine, MIGRATIONS)
    yield Database(engine, session_factory(engine))
    await engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class FakeStationControl(ctl_grpc.StationControlServicer):
    """The gateway as the firmware service sees it: stations in `online` answer with their
    status, others are NOT_FOUND (offline), as the real gateway does."""

    online: dict[str, str] = field(default_factory=dict)
    updates: list[ctl.UpdateFirmwareRequest] = field(default_factory=list)
    log_requests: list[ctl.GetLogsRequest] = field(default_factory=list)
    #: How long a station takes to answer UpdateFirmware.
    delay_s: float = 0.0

    async def UpdateFirmware(self, request: Any, context: Any) -> ctl.CommandReply:
        self.updates.append(request)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if request.station_id not in self.online:
            await context.abort(grpc.StatusCode.NOT_FOUND, "station is not connected")
        return ctl.CommandReply(status=self.online[request.station_id])

    async def GetLogs(self, request: Any, context: Any) -> ctl.GetLogsReply:
        self.log_requests.append(request)
        if request.station_id not in self.online:
            await context.abort(grpc.StatusCode.NOT_FOUND, "station is not connected")
        return ctl.GetLogsReply(status=self.online[request.station_id], file_name="cp.log")


@dataclass
class Gateway:
    control: FakeStationControl
    target: str
    token: str


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    registry = TokenRegistry(tmp_path / "gateway-tokens.json")
    token = registry.add("firmware", Role.SERVICE)
    control = FakeStationControl()
    server = GrpcServer("127.0.0.1", 0, registry)
    server.add(ctl_grpc.add_StationControlServicer_to_server, control, STATION_CONTROL)
    port = await server.start()
    yield Gateway(control, f"127.0.0.1:{port}", token)
    await server.stop(0.2)


@dataclass
class FakeStations(st_grpc.StationsServicer):
    """The stations registry as the firmware service reads it: filtered, paged station lists
    (`max_page` small, so paging is exercised) and sites with time zones. `down` answers
    UNAVAILABLE; `ignored_filter` names a filter it forgets, like an older service might."""

    stations: dict[str, st.Station] = field(default_factory=dict)
    sites: dict[str, st.Site] = field(default_factory=dict)
    down: bool = False
    max_page: int = 2
    ignored_filter: str = ""
    #: GetStation takes this long; the most calls seen in progress at once.
    lookup_delay_s: float = 0.0
    lookups_in_flight: int = 0
    most_lookups_in_flight: int = 0

    def add_site(self, site_id: str, timezone: str = "") -> None:
        self.sites[site_id] = st.Site(id=site_id, name=site_id, timezone=timezone)

    def add_station(self, station_id: str, site_id: str = "", **fields: str) -> None:
        values = {"vendor": "Acme", "model": "Volt 16", "firmware_version": "1.0"} | fields
        self.stations[station_id] = st.Station(id=station_id, site_id=site_id, **values)

    async def _check(self, context: Any) -> None:
        if self.down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "stations service is down")

    async def ListStations(self, request: Any, context: Any) -> st.ListStationsReply:
        await self._check(context)
        wanted = {
            "site_id": request.site_id,
            "vendor": request.vendor,
            "model": request.model,
            "firmware_version": request.firmware_version,
        }
        wanted.pop(self.ignored_filter, None)
        matching = [
            station
            for _, station in sorted(self.stations.items())
            if all(not value or getattr(station, name) == value for name, value in wanted.items())
        ]
        start = int(request.page.page_token or 0)
        size = min(request.page.page_size or self.max_page, self.max_page)
        reply = st.ListStationsReply(stations=matching[start : start + size], total=len(matching))
        if start + size < len(matching):
            reply.next_page_token = str(start + size)
        return reply

    async def GetStation(self, request: Any, context: Any) -> st.Station:
        await self._check(context)
        self.lookups_in_flight += 1
        self.most_lookups_in_flight = max(self.most_lookups_in_flight, self.lookups_in_flight)
        await asyncio.sleep(self.lookup_delay_s)
        self.lookups_in_flight -= 1
        if request.station_id not in self.stations:
            await context.abort(grpc.StatusCode.NOT_FOUND, "station not found")
        return self.stations[request.station_id]

    async def GetSite(self, request: Any, context: Any) -> st.Site:
        await self._check(context)
        if request.site_id not in self.sites:
            await context.abort(grpc.StatusCode.NOT_FOUND, "site not found")
        return self.sites[request.site_id]


@dataclass
class FakeSessions(se_grpc.SessionsServicer):
    """The session service: stations in `charging` have an active session; `down` answers
    UNAVAILABLE. `asked` records the stations asked about."""

    charging: set[str] = field(default_factory=set)
    down: bool = False
    asked: list[str] = field(default_factory=list)

    async def ActiveSessions(self, request: Any, context: Any) -> se.ListSessionsReply:
        self.asked.append(request.station_id)
        if self.down:
            await context.abort(grpc.StatusCode.UNAVAILABLE, "session service is down")
        active = [
            se.Session(id=f"{station_id}:1", station_id=station_id)
            for station_id in sorted(self.charging)
            if station_id == request.station_id
        ]
        return se.ListSessionsReply(sessions=active, total=len(active))


@dataclass
class Peers:
    """The stations and session services, served together on one port."""

    stations: FakeStations
    sessions: FakeSessions
    target: str
    token: str


@pytest.fixture
async def peers(tmp_path: Path) -> AsyncIterator[Peers]:
    registry = TokenRegistry(tmp_path / "peer-tokens.json")
    token = registry.add("firmware", Role.SERVICE)
    stations, sessions = FakeStations(), FakeSessions()
    server = GrpcServer("127.0.0.1", 0, registry)
    server.add(st_grpc.add_StationsServicer_to_server, stations, STATIONS)
    server.add(se_grpc.add_SessionsServicer_to_server, sessions, SESSIONS)
    port = await server.start()
    yield Peers(stations, sessions, f"127.0.0.1:{port}", token)
    await server.stop(0.2)


@dataclass
class Api:
    deps: ApiDeps
    campaigns: Campaigns
    runner: CampaignRunner
    target: str
    base_url: str
    uploads_dir: Path
    tokens: dict[Role, str]
    channels: list[grpc.aio.Channel]

    def as_role(self, role: Role | None = Role.OPERATOR) -> Any:
        channel = create_channel(self.target, token=self.tokens[role] if role else None)
        self.channels.append(channel)
        return pb_grpc.FirmwareStub(channel)


@pytest.fixture
async def api(
    tmp_path: Path, db: Database, clock: FakeClock, gateway: Gateway, peers: Peers
) -> AsyncIterator[Api]:
    registry = TokenRegistry(tmp_path / f"tokens-{uuid.uuid4().hex[:6]}.json")
    tokens = {role: registry.add(role.value, role) for role in Role}
    uploads_dir = tmp_path / "firmware-uploads"
    http = HttpServer(
        create_http_app(Uploads(db.sessions, uploads_dir, clock), registry), "127.0.0.1", 0
    )
    base_url = f"http://127.0.0.1:{await http.start()}"
    channel = create_channel(gateway.target, token=gateway.token, max_attempts=1)
    peer_channel = create_channel(peers.target, token=peers.token, max_attempts=1)
    counter = iter(range(1, 1_000_000))
    ids = iter(range(1, 1_000_000))
    deps = ApiDeps(
        sessions=db.sessions,
        commands=GatewayCommands(channel, timeout_s=5),
        base_url=lambda: base_url,
        clock=clock,
        new_id=lambda: f"id-{next(ids):06d}",
        new_request_id=lambda: 100 + next(counter),
        stations=GrpcStationDirectory(peer_channel, timeout_s=5),
        charging=GrpcChargingSessions(peer_channel, timeout_s=5),
    )
    server = GrpcServer("127.0.0.1", 0, registry)
    campaigns = Campaigns(deps, watch_poll_s=0.05)
    service = FirmwareService(deps, campaigns)
    server.add(pb_grpc.add_FirmwareServicer_to_server, service, SERVICE_NAME)
    port = await server.start()
    runner = CampaignRunner(deps)
    running = Api(deps, campaigns, runner, f"127.0.0.1:{port}", base_url, uploads_dir, tokens, [])
    yield running
    for opened in running.channels:
        await opened.close()
    await channel.close()
    await peer_channel.close()
    await server.stop(0.2)
    await http.stop()
