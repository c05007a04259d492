"""An in-memory mirror of what is live: every station's status and every open session.

Filled by a full read at start and every `live_resync_s` (ActiveSessions) or
`stations_resync_s` (ListStations) and kept current between reads by the services' watch
streams (stations WatchStatus, session WatchSessions), which also feed the event hub. The
overview, the station list (station_list.py) and the live sessions are answered from this
mirror, so they cost no gRPC call per request. Calls use the console's own service token.

Each station's full record (`records`, the service's `Station`) is kept too: a status update
changes its connector, `online` and `last_seen`; a station the mirror does not know yet, and
one that (re)connected (a boot may change its firmware, vendor or model), is read again with
GetStation (a connected one again at its first connector status, which follows the
accepted boot), so a new station shows within a second of its first status. A record changed in
the stations service without any status (an operator's UpdateStation, a CreateStation of a
station that never connected) shows at the next full read.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc

from chargegrid.api.session.v1 import session_pb2
from chargegrid.api.station.v1 import events_pb2 as station_events
from chargegrid.api.stations.v1 import stations_pb2
from chargegrid.console.auth import Caller
from chargegrid.console.backends import Backends
from chargegrid.console.convert import to_json
from chargegrid.console.hub import Hub, LiveEvent
from chargegrid.console.problems import Problem
from chargegrid.console.station_json import station_json
from chargegrid.platform.grpc.tokens import Role
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
FAULTED = station_events.CONNECTOR_STATUS_FAULTED
STREAM_TIMEOUT_S = 24 * 3600.0
HISTORY_PER_STATION = 100
#: Longest pause between attempts to reach a service that is down.
MAX_BACKOFF_S = 4.0


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class StationLive:
    station_id: str
    site_id: str = ""
    online: bool = False
    last_seen: datetime | None = None
    #: (evse id, connector id) -> (status enum, error code)
    connectors: dict[tuple[int, int], tuple[int, str]] = field(default_factory=dict)

    @property
    def faulted(self) -> bool:
        return any(status == FAULTED for status, _ in self.connectors.values())


class LiveMirror:
    def __init__(
        self,
        backends: Backends,
        hub: Hub,
        service_token: str | None,
        *,
        resync_s: float = 60.0,
        stations_resync_s: float = 15.0,
        energy_refresh_s: float = 30.0,
        offline_alert_minutes: float = 10.0,
        overview_cache_s: float = 1.0,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.backends = backends
        self.hub = hub
        self.caller = Caller("console", Role.SERVICE, service_token)
        self.resync_s = resync_s
        self.stations_resync_s = stations_resync_s
        self.energy_refresh_s = energy_refresh_s
        self.offline_alert_minutes = offline_alert_minutes
        self.overview_cache_s = overview_cache_s
        #: (query) -> (when computed, the overview): see routes/overview.py.
        self.overview_cache: dict[Any, tuple[float, Any]] = {}
        self.clock = clock
        self.stations: dict[str, StationLive] = {}
        #: station id -> the full record, and its JSON (built on first use after a change)
        self.records: dict[str, stations_pb2.Station] = {}
        self._record_json: dict[str, dict[str, Any]] = {}
        self._to_read: set[str] = set()
        #: connected, no connector status since: the boot may still change the record
        self._booting: set[str] = set()
        self._reading = asyncio.Event()
        self.status_stream_open = False
        self.sessions: dict[str, session_pb2.Session] = {}
        self.history: dict[str, deque[dict[str, Any]]] = {}
        self.energy_today_wh: float | None = None
        self.loaded: dict[str, datetime] = {}
        self.errors: dict[str, str] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self.session_stream_open = False

    def start(self) -> None:
        for work in (
            self._forever("stations", self._resync_stations, self.stations_resync_s),
            self._forever("sessions", self._resync_sessions, self.resync_s),
            self._forever("energy", self._refresh_energy, self.energy_refresh_s),
            # A stream the service ended is opened again a second later.
            self._forever("station-watch", self._watch_status, 1.0),
            self._forever("session-watch", self._watch_sessions, 1.0),
            self._forever("station-reads", self._read_stations, 0.0),
        ):
            self._tasks.append(asyncio.create_task(work))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _forever(
        self, name: str, once: Callable[[], Coroutine[Any, Any, None]], every_s: float
    ) -> None:
        """Run `once` every `every_s` (streams: again after they end), backing off on errors.

        Only the first failure in a row is a warning: a service that is down for a minute
        must not write sixty of them.
        """
        backoff = 0.5
        while True:
            try:
                await once()
                self.errors.pop(name, None)
                backoff = 0.5
                await asyncio.sleep(every_s)
            except asyncio.CancelledError:
                raise
            except (Problem, grpc.aio.AioRpcError) as exc:
                detail = exc.detail if isinstance(exc, Problem) else str(exc.details())
                if name not in self.errors:
                    log.warning("live mirror call failed", part=name, error=detail)
                self.errors[name] = detail
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)

    def stations_current(self) -> bool:
        """Read in full and followed by an open WatchStatus stream: complete and current."""
        return (
            "stations" in self.loaded
            and "stations" not in self.errors
            and "station-watch" not in self.errors
            and self.status_stream_open
        )

    def record_json(self, station: stations_pb2.Station) -> dict[str, Any]:
        """The record's API JSON, built once per change of the record."""
        found = self._record_json.get(station.id)
        if found is None:
            found = self._record_json[station.id] = station_json(station)
        return found

    def sessions_current(self) -> bool:
        """Read in full and followed by an open WatchSessions stream: complete and current."""
        return (
            "sessions" in self.loaded
            and "sessions" not in self.errors
            and "session-watch" not in self.errors
            and self.session_stream_open
        )

    def _opened(self, name: str) -> None:
        """A watch stream was opened: its last failure is no longer current. (Waiting for the
        service's first message would hold until something changes.)"""
        self.errors.pop(name, None)

    def _received(self, name: str) -> None:
        self.loaded[name] = self.clock()

    # --- full reads -------------------------------------------------------------------------

    async def _resync_stations(self) -> None:
        fresh: dict[str, StationLive] = {}
        records: dict[str, stations_pb2.Station] = {}
        token = ""
        while True:
            request = stations_pb2.ListStationsRequest()
            request.page.page_size = 500
            request.page.page_token = token
            reply = await self.backends.call("stations", "ListStations", request, self.caller)
            for station in reply.stations:
                fresh[station.id] = self._from_station(station)
                records[station.id] = station
            token = reply.next_page_token
            if not token:
                break
        self.stations, self.records, self._record_json = fresh, records, {}
        self.loaded["stations"] = self.clock()

    async def _read_stations(self) -> None:
        """Read again, one GetStation each, the stations `apply_status` asked for."""
        await self._reading.wait()
        self._reading.clear()
        while self._to_read:
            station_id = self._to_read.pop()
            request = stations_pb2.GetStationRequest(station_id=station_id)
            try:
                station = await self.backends.call("stations", "GetStation", request, self.caller)
            except Problem as exc:
                if exc.status != 404:
                    self._to_read.add(station_id)  # again once the service answers
                    raise
                self.records.pop(station_id, None)  # deleted meanwhile
                self.stations.pop(station_id, None)
                self._record_json.pop(station_id, None)
                continue
            self.records[station_id] = station
            self._record_json.pop(station_id, None)
            self.stations[station_id] = self._from_station(station)

    @staticmethod
    def _from_station(station: stations_pb2.Station) -> StationLive:
        live = StationLive(station.id, station.site_id, station.online)
        if station.HasField("last_seen"):
            live.last_seen = station.last_seen.ToDatetime(UTC)
        for evse in station.evses:
            for connector in evse.connectors:
                key = (evse.evse_id, connector.connector_id)
                live.connectors[key] = (connector.status, connector.error_code)
        return live

    async def _resync_sessions(self) -> None:
        reply = await self.backends.call(
            "session", "ActiveSessions", session_pb2.ActiveSessionsRequest(), self.caller
        )
        self.sessions = {s.id: s for s in reply.sessions}
        self.loaded["sessions"] = self.clock()

    async def _refresh_energy(self) -> None:
        """Energy of the sessions started today (UTC), open ones up to now."""
        now = self.clock()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        total, token = 0.0, ""
        while True:
            request = session_pb2.ListSessionsRequest()
            request.since.FromDatetime(midnight)
            request.page.page_size = 500
            request.page.page_token = token
            reply = await self.backends.call("session", "ListSessions", request, self.caller)
            total += sum(s.energy_wh for s in reply.sessions)
            token = reply.next_page_token
            if not token:
                break
        self.energy_today_wh = total
        self.loaded["energy"] = now

    # --- streams ----------------------------------------------------------------------------

    async def _watch_status(self) -> None:
        stub = self.backends.stub("stations")
        call = stub.WatchStatus(
            stations_pb2.WatchStatusRequest(snapshot=False),
            metadata=self.caller.metadata(),
            timeout=STREAM_TIMEOUT_S,
        )
        self._opened("station-watch")
        self.status_stream_open = True
        try:
            async for update in call:
                self._received("station-watch")
                self.apply_status(update)
        finally:
            self.status_stream_open = False

    def apply_status(self, update: stations_pb2.StatusUpdate) -> None:
        live = self.stations.get(update.station_id)
        if live is None:
            live = self.stations[update.station_id] = StationLive(update.station_id)
        live.site_id = update.site_id or live.site_id
        live.online = update.online
        at = update.occurred_at.ToDatetime(UTC) if update.HasField("occurred_at") else None
        if at is not None:
            live.last_seen = at
        if update.connector_id or update.evse_id:
            live.connectors[(update.evse_id, update.connector_id)] = (
                update.status,
                update.error_code,
            )
        self._update_record(update, at)
        data = to_json(update)
        self.history.setdefault(update.station_id, deque(maxlen=HISTORY_PER_STATION)).append(data)
        self.hub.publish(LiveEvent("station.status", data, live.site_id, update.station_id))

    def _update_record(self, update: stations_pb2.StatusUpdate, at: datetime | None) -> None:
        """Apply a status update to the station's record (or have the record read)."""
        record = self.records.get(update.station_id)
        # A connect comes before the station's BootNotification, its first StatusNotification
        # after the boot was accepted (and registered): read the record at both.
        first_status = update.kind == "status" and update.station_id in self._booting
        if record is None or update.kind == "online" or first_status:
            if update.kind == "online":
                self._booting.add(update.station_id)
            elif first_status:
                self._booting.discard(update.station_id)
            self._to_read.add(update.station_id)
            self._reading.set()
            if record is None:
                return
        self._record_json.pop(update.station_id, None)
        record.online = update.online
        if update.site_id:
            record.site_id = update.site_id
        if at is not None:
            record.last_seen.FromDatetime(at)
        if not (update.connector_id or update.evse_id):
            return
        evse = next((e for e in record.evses if e.evse_id == update.evse_id), None)
        if evse is None:
            evse = record.evses.add(evse_id=update.evse_id)
        connector = next(
            (c for c in evse.connectors if c.connector_id == update.connector_id), None
        )
        if connector is None:
            connector = evse.connectors.add(connector_id=update.connector_id)
        connector.status = update.status
        connector.error_code = update.error_code
        if at is not None:
            connector.status_at.FromDatetime(at)

    async def _watch_sessions(self) -> None:
        stub = self.backends.stub("session")
        call = stub.WatchSessions(
            session_pb2.WatchSessionsRequest(snapshot=False),
            metadata=self.caller.metadata(),
            timeout=STREAM_TIMEOUT_S,
        )
        self._opened("session-watch")
        self.session_stream_open = True
        try:
            async for change in call:
                self._received("session-watch")
                self.apply_session(change)
        finally:
            self.session_stream_open = False

    def apply_session(self, change: session_pb2.SessionChange) -> None:
        session = change.session
        if change.kind == "closed":
            self.sessions.pop(session.id, None)
        else:
            self.sessions[session.id] = session
        kind = change.kind if change.kind in ("opened", "updated", "closed") else "updated"
        self.hub.publish(
            LiveEvent(f"session.{kind}", to_json(session), session.site_id, session.station_id)
        )
