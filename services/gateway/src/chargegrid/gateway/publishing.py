"""Store what a station said, and what it means, in Kafka before the station is answered.

For each CALL the gateway stores one batch: the exchange (the raw CALL and the raw reply about
to be sent, one ocpp.frames.v1 record) and the version-neutral events it carries. The batch is
sent at once and every acknowledgement awaited, so a MeterValues costs one round trip to the
broker. `BusUnavailable` propagates: the caller answers InternalError.
"""

from __future__ import annotations

from dataclasses import dataclass

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.ocpp.v1 import frames_pb2
from chargegrid.gateway.routing import Emit, StationInfo
from chargegrid.platform.bus import BusUnavailable, EnvelopeFactory, EventProducer
from chargegrid.platform.bus.topics import OCPP_FRAMES
from chargegrid.platform.logging import get_logger

INBOUND = frames_pb2.DIRECTION_INBOUND
OUTBOUND = frames_pb2.DIRECTION_OUTBOUND
log = get_logger(__name__)


@dataclass(slots=True, frozen=True)
class Exchange:
    """A CALL (or an unreadable frame) and the answer to it, as they were on the wire."""

    direction: frames_pb2.Direction.ValueType
    raw: str
    message_type_id: int
    unique_id: str
    action: str
    reply_raw: str = ""
    reply_message_type_id: int = 0


class GatewayPublisher:
    def __init__(self, producer: EventProducer, factory: EnvelopeFactory) -> None:
        self.producer = producer
        self.factory = factory

    def _frame(self, station: StationInfo, exchange: Exchange) -> Envelope:
        payload = frames_pb2.OcppFrame(
            direction=exchange.direction,
            ocpp_version=station.version.to_proto(),
            message_type_id=exchange.message_type_id,
            unique_id=exchange.unique_id,
            action=exchange.action,
            raw=exchange.raw,
            gateway_pod=station.gateway_pod,
            reply_raw=exchange.reply_raw,
            reply_message_type_id=exchange.reply_message_type_id,
        )
        return self.factory.wrap(
            "ocpp.exchange", station.station_id, payload, correlation_id=exchange.unique_id
        )

    async def store(
        self, station: StationInfo, exchange: Exchange | None, events: list[Emit], correlation: str
    ) -> None:
        """The exchange and its events in one acknowledged batch; raises BusUnavailable."""
        items = [] if exchange is None else [(OCPP_FRAMES, self._frame(station, exchange))]
        items += [
            (
                event.topic,
                self.factory.wrap(
                    event.type,
                    station.station_id,
                    event.payload,
                    occurred_at=event.occurred_at,
                    correlation_id=correlation,
                ),
            )
            for event in events
        ]
        if items:
            await self.producer.publish_batch(items)

    async def store_best_effort(
        self, station: StationInfo, exchange: Exchange | None, events: list[Emit]
    ) -> bool:
        """For records nothing is acknowledged on (bad frames, audit): failures are logged."""
        try:
            await self.store(station, exchange, events, exchange.unique_id if exchange else "")
        except BusUnavailable as exc:
            log.warning("audit record not stored", station_id=station.station_id, error=str(exc))
            return False
        return True
