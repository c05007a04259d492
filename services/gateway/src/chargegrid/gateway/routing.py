"""The contract between the connection loop and the per-action handlers.

A handler receives the validated payload of a station's CALL and returns an `Outcome`: the
CALLRESULT payload and the version-neutral events to store before the station is answered.
Handlers do no Kafka I/O themselves; they may ask `decisions` (the owning services) for
answers. Each OCPP version has a routing table: action name -> handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.protobuf.message import Message

from chargegrid.gateway.clock import Sources
from chargegrid.gateway.decisions import Decisions
from chargegrid.gateway.protocol.versions import OcppVersion


@dataclass(slots=True, frozen=True)
class StationInfo:
    station_id: str
    version: OcppVersion
    gateway_pod: str
    remote_address: str
    connected_at: datetime
    security_profile: int = 0
    #: 2.x: the highest TransactionEvent seqNo seen per transaction on this connection.
    transaction_seq: dict[str, int] = field(default_factory=dict, compare=False)


@dataclass(slots=True)
class Emit:
    """An event to store (acks=all) before the station gets its answer."""

    topic: str
    type: str
    payload: Message
    occurred_at: datetime | None = None


@dataclass(slots=True)
class Outcome:
    response: dict[str, Any]
    events: list[Emit] = field(default_factory=list)


@dataclass(slots=True)
class CallContext:
    station: StationInfo
    unique_id: str
    received_at: datetime
    decisions: Decisions
    sources: Sources

    @property
    def station_id(self) -> str:
        return self.station.station_id


Handler = Callable[[CallContext, dict[str, Any]], Awaitable[Outcome]]
Routes = Mapping[str, Handler]
