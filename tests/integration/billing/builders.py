"""Builders for session events, a fixed clock, and fakes of the services billing asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc

from chargegrid.api.authorization.v1 import authorization_pb2 as auth_pb
from chargegrid.api.authorization.v1 import authorization_pb2_grpc as auth_grpc
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as spb
from chargegrid.api.stations.v1 import stations_pb2 as st_pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as st_grpc
from chargegrid.api.transaction.v1.events_pb2 import IdToken
from chargegrid.platform.bus import EnvelopeFactory
from chargegrid.platform.bus.envelope import set_timestamp

START = datetime(2026, 1, 15, 16, 30, tzinfo=UTC)  # 17:30 in Berlin


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def a_session(
    station: str = "CP-1",
    tx: str = "tx-1",
    *,
    started_at: datetime = START,
    ended_at: datetime | None = None,
    updated_at: datetime | None = None,
    energy_wh: float = 0.0,
    charging_s: int = 0,
    power_w: float = 0.0,
    site_id: str = "",
    id_token: str = "TAG-1",
) -> spb.Session:
    session = spb.Session(
        id=f"{station}:{tx}",
        station_id=station,
        transaction_id=tx,
        site_id=site_id,
        id_token=IdToken(id=id_token, type="ISO14443"),
        energy_wh=energy_wh,
        charging_s=charging_s,
        power_w=power_w,
        status=spb.SESSION_STATUS_COMPLETED if ended_at else spb.SESSION_STATUS_ACTIVE,
    )
    set_timestamp(session.started_at, started_at)
    if ended_at is not None:
        set_timestamp(session.ended_at, ended_at)
    if updated_at is not None:
        set_timestamp(session.updated_at, updated_at)
    return session


FACTORY = EnvelopeFactory("session/test")


def opened(session: spb.Session) -> Envelope:
    return FACTORY.wrap("session.opened", session.station_id, spb.SessionOpened(session=session))


def updated(session: spb.Session) -> Envelope:
    return FACTORY.wrap("session.updated", session.station_id, spb.SessionUpdated(session=session))


def closed(session: spb.Session) -> Envelope:
    return FACTORY.wrap("session.closed", session.station_id, spb.SessionClosed(session=session))


def abort_not_found(context: Any, what: str) -> Any:
    return context.abort(grpc.StatusCode.NOT_FOUND, f"no {what}")


@dataclass
class FakeStations(st_grpc.StationsServicer):
    """Stations with a site each, sites with a time zone; counts calls to show caching."""

    station_sites: dict[str, str] = field(default_factory=dict)
    site_zones: dict[str, str] = field(default_factory=dict)
    calls: int = 0

    async def GetStation(self, request: st_pb.GetStationRequest, context: Any) -> st_pb.Station:
        self.calls += 1
        if request.station_id not in self.station_sites:
            await abort_not_found(context, "station")
        return st_pb.Station(id=request.station_id, site_id=self.station_sites[request.station_id])

    async def GetSite(self, request: st_pb.GetSiteRequest, context: Any) -> st_pb.Site:
        self.calls += 1
        if request.site_id not in self.site_zones:
            await abort_not_found(context, "site")
        return st_pb.Site(id=request.site_id, timezone=self.site_zones[request.site_id])


@dataclass
class FakeAuthorization(auth_grpc.AuthorizationServicer):
    groups: dict[str, str] = field(default_factory=dict)

    async def GetToken(self, request: auth_pb.GetTokenRequest, context: Any) -> auth_pb.Token:
        if request.id_token not in self.groups:
            await abort_not_found(context, "token")
        return auth_pb.Token(id_token=request.id_token, group_id=self.groups[request.id_token])


@dataclass
class FixedLookups:
    """In-memory lookups: one zone for every site, groups by token."""

    zone: str = "Europe/Berlin"
    site: str = "SITE-1"
    groups: dict[str, str] = field(default_factory=dict)

    async def site_and_timezone(self, station_id: str, site_id: str) -> tuple[str, str] | None:
        return site_id or self.site, self.zone

    async def token_group(self, id_token: str) -> str | None:
        return self.groups.get(id_token, "")
