"""Test data for the session service: transaction and station events as the gateway sends them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from chargegrid.api.common.v1 import common_pb2 as common
from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.api.station.v1 import events_pb2 as station_ev
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.platform.bus import EnvelopeFactory, decode, unpack
from chargegrid.platform.bus.envelope import set_timestamp

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
REGISTER = "Energy.Active.Import.Register"
_ids = itertools.count(1)


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


FACTORY = EnvelopeFactory("gateway/test", ids=lambda: f"ev-{next(_ids)}")


def sample(minute: float, measurand: str, value: float, **overrides: Any) -> tx.MeterSample:
    fields: dict[str, Any] = {
        "measurand": measurand,
        "value": value,
        "unit": {"Power.Active.Import": "W", "SoC": "Percent"}.get(measurand, "Wh"),
        "context": "Sample.Periodic",
        "location": "EV" if measurand == "SoC" else "Outlet",
    }
    fields.update(overrides)
    made = tx.MeterSample(**fields)
    set_timestamp(made.timestamp, at(minute))
    return made


def register(minute: float, wh: float, **overrides: Any) -> tx.MeterSample:
    return sample(minute, REGISTER, wh, **overrides)


def power(minute: float, watts: float, **overrides: Any) -> tx.MeterSample:
    return sample(minute, "Power.Active.Import", watts, **overrides)


def started(
    minute: float = 0,
    tx_id: str = "42",
    station: str = "CP-1",
    *,
    meter_start: float | None = 1000.0,
    samples: tuple[tx.MeterSample, ...] = (),
    offline: bool = False,
    token: str = "TAG1",
    evse: int = 1,
) -> Envelope:
    event = tx.TransactionStarted(
        transaction_id=tx_id,
        evse_id=evse,
        connector_id=evse,
        id_token=tx.IdToken(id=token, type="IdTag"),
        offline=offline,
        samples=list(samples),
        trigger_reason="Authorized",
    )
    if meter_start is not None:
        event.meter_start_wh = meter_start
    set_timestamp(event.started_at, at(minute))
    return FACTORY.wrap("transaction.started", station, event, occurred_at=at(minute))


def updated(
    minute: float,
    *samples: tx.MeterSample,
    tx_id: str = "42",
    station: str = "CP-1",
    offline: bool = False,
    charging_state: str = "Charging",
    token: str = "",
) -> Envelope:
    event = tx.TransactionUpdated(
        id_token=tx.IdToken(id=token, type="ISO14443" if token else ""),
        transaction_id=tx_id,
        evse_id=1,
        connector_id=1,
        charging_state=charging_state,
        offline=offline,
        samples=list(samples),
    )
    set_timestamp(event.timestamp, at(minute))
    return FACTORY.wrap("transaction.updated", station, event, occurred_at=at(minute))


def ended(
    minute: float,
    meter_stop: float | None = None,
    *samples: tx.MeterSample,
    tx_id: str = "42",
    station: str = "CP-1",
    reason: str = "Local",
    offline: bool = False,
) -> Envelope:
    event = tx.TransactionEnded(
        transaction_id=tx_id, stop_reason=reason, offline=offline, samples=list(samples)
    )
    if meter_stop is not None:
        event.meter_stop_wh = meter_stop
    set_timestamp(event.ended_at, at(minute))
    return FACTORY.wrap("transaction.ended", station, event, occurred_at=at(minute))


def booted(minute: float, station: str = "CP-1", version: int = common.OCPP_VERSION_16) -> Envelope:
    event = station_ev.StationBooted(
        vendor="Acme", model="Volt", registration_status="Accepted", ocpp_version=version
    )
    return FACTORY.wrap("station.booted", station, event, occurred_at=at(minute))


def status(
    minute: float,
    connector_status: int = station_ev.CONNECTOR_STATUS_AVAILABLE,
    evse: int = 1,
    station: str = "CP-1",
) -> Envelope:
    """A StatusNotification of one outlet (1.6: evse = connector)."""
    event = station_ev.StatusChanged(evse_id=evse, connector_id=evse, status=connector_status)
    return FACTORY.wrap("station.status_changed", station, event, occurred_at=at(minute))


def again(envelope: Envelope) -> Envelope:
    """The same event re-delivered (same id)."""
    copy = Envelope()
    copy.CopyFrom(envelope)
    return copy


def resent(envelope: Envelope) -> Envelope:
    """The same message sent again by the station: same content, a new event id."""
    copy = again(envelope)
    copy.event_id = f"ev-{next(_ids)}"
    return copy


def session_events(raw: list[bytes]) -> list[tuple[str, pb.Session]]:
    """(kind, session) of encoded session.events.v1 envelopes."""
    found = []
    for value in raw:
        envelope = decode(value)
        kind = envelope.type.removeprefix("session.")
        payload_type: Any = {
            "opened": pb.SessionOpened,
            "updated": pb.SessionUpdated,
            "closed": pb.SessionClosed,
        }[kind]
        found.append((kind, unpack(envelope, payload_type).session))
    return found
