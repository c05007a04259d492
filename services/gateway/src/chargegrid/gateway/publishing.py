"""Store what a station said, and what it means, in Kafka before the station is answered.

For each CALL the gateway stores one batch: the raw inbound frame (ocpp.frames.v1), the
version-neutral events it carries, and the raw reply about to be sent. The batch is sent at
once and every acknowledgement awaited, so a MeterValues costs one round trip to the broker
however many records it makes. `BusUnavailable` propagates: the caller answers InternalError.
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
class FrameRecord:
    direction: frames_pb2.Direction.ValueType
    raw: str
    message_type_id: int
    unique_id: str
    action: str


class GatewayPublisher:
    def __init__(self, producer: EventProducer, factory: EnvelopeFactory) -> None:
        self.producer = producer
        self.factory = factory

    def _frame(self, station: StationInfo, frame: FrameRecord) -> Envelope:
        payload = frames_pb2.OcppFrame(
            direction=frame.direction,
            ocpp_version=station.version.to_proto(),
            message_type_id=frame.message_type_id,
            unique_id=frame.unique_id,
            action=frame.action,
            raw=frame.raw,
            gateway_pod=station.gateway_pod,
        )
        return self.factory.wrap(
            "ocpp.frame", station.station_id, payload, correlation_id=frame.unique_id
        )

    async def store(
        self, station: StationInfo, frames: list[FrameRecord], events: list[Emit], correlation: str
    ) -> None:
        """Frames and events in one acknowledged batch; raises BusUnavailable."""
        items = [(OCPP_FRAMES, self._frame(station, frame)) for frame in frames[:1]]
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
        items += [(OCPP_FRAMES, self._frame(station, frame)) for frame in frames[1:]]
        await self.producer.publish_batch(items)

    async def store_best_effort(
        self, station: StationInfo, frames: list[FrameRecord], events: list[Emit]
    ) -> bool:
        """For records nothing is acknowledged on (bad frames, audit): failures are logged."""
        try:
            await self.store(station, frames, events, frames[0].unique_id if frames else "")
        except BusUnavailable as exc:
            log.warning("audit record not stored", station_id=station.station_id, error=str(exc))
            return False
        return True
