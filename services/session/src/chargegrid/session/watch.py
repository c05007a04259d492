"""Live session changes for WatchSessions streams, on every replica.

Session events are decided by whichever replica owns a station's partition, so no replica
sees every change first-hand. Each replica therefore runs its own non-committing consumer of
session.events.v1 from the latest offset (`WatchFeed`; group-less, so nothing is left behind
in Kafka when a pod goes away) and fans the changes out to its own watchers (`SessionHub`).
A watcher that cannot keep up is cut off instead of slowing the others down.
"""

from __future__ import annotations

from typing import Any

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.platform.bus.envelope import unpack
from chargegrid.platform.bus.topics import SESSION_EVENTS
from chargegrid.platform.live import Hub, LiveFeed, Subscription, matches
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)
PAYLOADS: dict[str, Any] = {
    "session.opened": pb.SessionOpened,
    "session.updated": pb.SessionUpdated,
    "session.closed": pb.SessionClosed,
}


def change_of(envelope: Envelope) -> pb.SessionChange | None:
    """The SessionChange a session event announces; None for other types."""
    payload_type = PAYLOADS.get(envelope.type)
    if payload_type is None:
        return None
    payload = unpack(envelope, payload_type)
    return pb.SessionChange(kind=envelope.type.removeprefix("session."), session=payload.session)


class SessionHub(Hub[pb.SessionChange]):
    """This replica's WatchSessions callers."""

    def subscribe(self, station_id: str = "", site_id: str = "") -> Subscription[pb.SessionChange]:
        return self.add(
            lambda c: matches(c.session.station_id, c.session.site_id, station_id, site_id)
        )


async def _translate(envelope: Envelope) -> pb.SessionChange | None:
    return change_of(envelope)


def WatchFeed(bootstrap_servers: str, hub: SessionHub, **client: Any) -> LiveFeed[pb.SessionChange]:
    """This replica's group-less feed of session.events.v1 into `hub`."""
    return LiveFeed(bootstrap_servers, SESSION_EVENTS, hub, _translate, **client)
