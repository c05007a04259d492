"""A minimal CSMS for simulator tests: the `ocpp` package's server side over websockets.

It accepts OCPP 1.6, 2.0.1 and 2.1 on one port, answers what stations send (the `ocpp`
classes validate both directions against the official schemas), records every frame, and
lets a test send CSMS-initiated calls. `schema_violations` re-checks every frame a station
sent against the schema files shipped in the `ocpp` package, independently of the library.
"""

from __future__ import annotations

import asyncio
import decimal
import itertools
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import ocpp
from jsonschema import Draft4Validator, FormatChecker
from ocpp.v16 import ChargePoint as Central16Base
from ocpp.v16 import call_result as result16
from ocpp.v21 import ChargePoint as Central21Base
from ocpp.v201 import ChargePoint as Central201Base
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from chargegrid.simulator.routing import on

SCHEMAS = Path(ocpp.__file__).parent
SUBPROTOCOLS = {"ocpp1.6": "1.6", "ocpp2.0.1": "2.0.1", "ocpp2.1": "2.1"}


@dataclass(frozen=True)
class Frame:
    """One WebSocket message; `inbound` means the station sent it."""

    station_id: str
    version: str
    inbound: bool
    message: list[Any]

    @property
    def kind(self) -> int:
        return int(self.message[0])

    @property
    def unique_id(self) -> str:
        return str(self.message[1])


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class RecordingConnection:
    """Wraps the server connection so every frame in and out is kept."""

    def __init__(self, connection: ServerConnection, record: Callable[[bool, str], None]) -> None:
        self._connection = connection
        self._record = record

    async def recv(self) -> str:
        raw = await self._connection.recv()
        text = raw if isinstance(raw, str) else raw.decode()
        self._record(True, text)
        return text

    async def send(self, raw: str) -> None:
        self._record(False, raw)
        await self._connection.send(raw)


class Central16(Central16Base):  # type: ignore[misc]
    """Server side of one 1.6 station."""

    def __init__(self, station_id: str, connection: Any, double: CsmsDouble) -> None:
        super().__init__(station_id, connection, response_timeout=5)
        self.double = double

    @on("BootNotification")
    def on_boot(self, **_: Any) -> Any:
        status, interval = self.double.next_boot()
        return result16.BootNotification(current_time=_now(), interval=interval, status=status)

    @on("Heartbeat")
    def on_heartbeat(self, **_: Any) -> Any:
        return result16.Heartbeat(current_time=_now())

    @on("StatusNotification")
    def on_status(self, **_: Any) -> Any:
        return result16.StatusNotification()

    @on("Authorize")
    def on_authorize(self, id_tag: str, **_: Any) -> Any:
        return result16.Authorize(id_tag_info=self.double.id_tag_info(id_tag))

    @on("StartTransaction")
    def on_start(self, id_tag: str, **_: Any) -> Any:
        return result16.StartTransaction(
            transaction_id=next(self.double.transaction_ids),
            id_tag_info=self.double.id_tag_info(id_tag),
        )

    @on("MeterValues")
    def on_meter_values(self, **_: Any) -> Any:
        return result16.MeterValues()

    @on("StopTransaction")
    def on_stop(self, **_: Any) -> Any:
        return result16.StopTransaction()

    @on("FirmwareStatusNotification")
    def on_firmware_status(self, **_: Any) -> Any:
        return result16.FirmwareStatusNotification()

    @on("SignedFirmwareStatusNotification")
    def on_signed_firmware_status(self, **_: Any) -> Any:
        return result16.SignedFirmwareStatusNotification()

    @on("DiagnosticsStatusNotification")
    def on_diagnostics_status(self, **_: Any) -> Any:
        return result16.DiagnosticsStatusNotification()

    @on("LogStatusNotification")
    def on_log_status(self, **_: Any) -> Any:
        return result16.LogStatusNotification()

    @on("SecurityEventNotification")
    def on_security_event(self, **_: Any) -> Any:
        return result16.SecurityEventNotification()

    @on("DataTransfer")
    def on_data_transfer(self, data: str | None = None, **_: Any) -> Any:
        return result16.DataTransfer(status="Accepted", data=data)


class Central2x:
    """Server side of one 2.x station (the concrete class brings `_call_result`)."""

    _call_result: Any

    def __init__(self, station_id: str, connection: Any, double: CsmsDouble) -> None:
        super().__init__(station_id, connection, response_timeout=5)  # type: ignore[call-arg]
        self.double = double

    @on("BootNotification")
    def on_boot(self, **_: Any) -> Any:
        status, interval = self.double.next_boot()
        return self._call_result.BootNotification(
            current_time=_now(), interval=interval, status=status
        )

    @on("Heartbeat")
    def on_heartbeat(self, **_: Any) -> Any:
        return self._call_result.Heartbeat(current_time=_now())

    @on("StatusNotification")
    def on_status(self, **_: Any) -> Any:
        return self._call_result.StatusNotification()

    @on("Authorize")
    def on_authorize(self, id_token: dict[str, Any], **_: Any) -> Any:
        verdict = {"status": self.double.verdict(id_token["id_token"])}
        return self._call_result.Authorize(id_token_info=verdict)

    @on("TransactionEvent")
    def on_transaction_event(self, id_token: dict[str, Any] | None = None, **_: Any) -> Any:
        verdict = {"status": self.double.verdict(id_token["id_token"])} if id_token else None
        return self._call_result.TransactionEvent(id_token_info=verdict)

    @on("MeterValues")
    def on_meter_values(self, **_: Any) -> Any:
        return self._call_result.MeterValues()

    @on("FirmwareStatusNotification")
    def on_firmware_status(self, **_: Any) -> Any:
        return self._call_result.FirmwareStatusNotification()

    @on("LogStatusNotification")
    def on_log_status(self, **_: Any) -> Any:
        return self._call_result.LogStatusNotification()

    @on("SecurityEventNotification")
    def on_security_event(self, **_: Any) -> Any:
        return self._call_result.SecurityEventNotification()

    @on("NotifyReport")
    def on_notify_report(self, **_: Any) -> Any:
        return self._call_result.NotifyReport()

    @on("DataTransfer")
    def on_data_transfer(self, data: Any = None, **_: Any) -> Any:
        return self._call_result.DataTransfer(status="Accepted", data=data)


class Central201(Central2x, Central201Base):  # type: ignore[misc]
    pass


class Central21(Central2x, Central21Base):  # type: ignore[misc]
    pass


CENTRALS: dict[str, Any] = {"1.6": Central16, "2.0.1": Central201, "2.1": Central21}


class CsmsDouble:
    """One listening port, any number of stations, every frame recorded."""

    def __init__(self) -> None:
        self.boot_statuses: list[str] = ["Accepted"]
        self.heartbeat_interval = 300
        self.blocked_tags: set[str] = set()
        #: 1.6 parentIdTag of a tag (its group), answered with Authorize / StartTransaction.
        self.parents: dict[str, str] = {}
        self.transaction_ids = itertools.count(1001)
        self.frames: list[Frame] = []
        self.centrals: dict[str, Any] = {}
        self.connections: dict[str, ServerConnection] = {}
        self.connection_counts: dict[str, int] = defaultdict(int)
        self.headers: dict[str, dict[str, str]] = {}
        self._server: Server | None = None

    async def start(self, port: int = 0) -> None:
        self._server = await serve(
            self._serve,
            "127.0.0.1",
            port,
            subprotocols=list(SUBPROTOCOLS),  # type: ignore[arg-type]
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/ocpp"

    def next_boot(self) -> tuple[str, int]:
        status = self.boot_statuses.pop(0) if len(self.boot_statuses) > 1 else self.boot_statuses[0]
        return status, self.heartbeat_interval if status == "Accepted" else 0

    def verdict(self, id_tag: str) -> str:
        return "Blocked" if id_tag in self.blocked_tags else "Accepted"

    def id_tag_info(self, id_tag: str) -> dict[str, str]:
        info = {"status": self.verdict(id_tag)}
        if parent := self.parents.get(id_tag):
            info["parent_id_tag"] = parent
        return info

    async def _serve(self, connection: ServerConnection) -> None:
        assert connection.request is not None
        station_id = connection.request.path.rsplit("/", 1)[-1]
        version = SUBPROTOCOLS[str(connection.subprotocol)]
        self.headers[station_id] = dict(connection.request.headers.raw_items())
        self.connection_counts[station_id] += 1
        self.connections[station_id] = connection

        def record(inbound: bool, raw: str) -> None:
            self.frames.append(Frame(station_id, version, inbound, json.loads(raw)))

        central = CENTRALS[version](station_id, RecordingConnection(connection, record), self)
        self.centrals[station_id] = central
        try:
            await central.start()
        except ConnectionClosed:
            return

    async def call(self, station_id: str, payload: Any) -> Any:
        """Send a CSMS-initiated call; CALLERRORs raise."""
        return await self.centrals[station_id].call(payload, suppress=False)

    async def drop(self, station_id: str) -> None:
        """Close the station's connection from the server side."""
        await self.connections[station_id].close()

    def sent(self, station_id: str, action: str) -> list[dict[str, Any]]:
        """Payloads of the calls the station sent for `action`, oldest first."""
        return [
            f.message[3]
            for f in self.frames
            if f.inbound and f.kind == 2 and f.station_id == station_id and f.message[2] == action
        ]

    async def wait_for(
        self,
        station_id: str,
        action: str,
        match: Callable[[dict[str, Any]], bool] = lambda _: True,
        *,
        count: int = 1,
        timeout_s: float = 5.0,
    ) -> list[dict[str, Any]]:
        """Wait until the station sent `count` matching `action` calls; returns them all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            found = [p for p in self.sent(station_id, action) if match(p)]
            if len(found) >= count:
                return found
            if loop.time() > deadline:
                raise AssertionError(f"{station_id} sent {len(found)}/{count} {action}: {found}")
            await asyncio.sleep(0.01)

    def schema_violations(self) -> list[str]:
        """Every station frame checked against the official schema of its message."""
        actions = {
            (f.station_id, f.unique_id): f.message[2]
            for f in self.frames
            if not f.inbound and f.kind == 2
        }
        problems = []
        for frame in self.frames:
            if not frame.inbound or frame.kind not in (2, 3):
                continue
            if frame.kind == 2:
                action, payload, suffix = frame.message[2], frame.message[3], "Request"
            else:
                action = actions[(frame.station_id, frame.unique_id)]
                payload, suffix = frame.message[2], "Response"
            error = _schema_error(frame.version, action, suffix, payload)
            if error:
                problems.append(f"{frame.station_id} {action}{suffix}: {error}")
        return problems


_formats = FormatChecker()


def _is_timestamp(value: object) -> bool:
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


_formats.checks("date-time", raises=ValueError)(_is_timestamp)


@cache
def _validator(version: str, name: str) -> Draft4Validator:
    folder = SCHEMAS / ("v" + version.replace(".", "")) / "schemas"
    text = (folder / f"{name}.json").read_text(encoding="utf-8-sig")
    schema = json.loads(text, parse_float=decimal.Decimal)
    return Draft4Validator(schema, format_checker=_formats)


def _schema_error(version: str, action: str, suffix: str, payload: Any) -> str | None:
    if version == "1.6":
        name = action if suffix == "Request" else action + "Response"
    else:
        name = action + suffix
    exact = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    error = next(iter(_validator(version, name).iter_errors(exact)), None)
    return None if error is None else error.message
