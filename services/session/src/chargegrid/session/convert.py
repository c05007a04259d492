"""Protobuf <-> domain, at the edge: transaction events in, Session messages out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.events.v1.envelope_pb2 import Envelope
from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.api.station.v1 import events_pb2 as station_ev
from chargegrid.api.transaction.v1 import events_pb2 as tx
from chargegrid.platform.bus.envelope import occurred_at, set_timestamp, unpack
from chargegrid.session.domain.model import (
    ACTIVE,
    COMPLETED,
    INTERRUPTED,
    Ended,
    OutletFreed,
    Sample,
    SeqGap,
    SessionState,
    Started,
    TransactionFact,
    Updated,
)

STATUS_TO_PB = {
    ACTIVE: pb.SESSION_STATUS_ACTIVE,
    COMPLETED: pb.SESSION_STATUS_COMPLETED,
    INTERRUPTED: pb.SESSION_STATUS_INTERRUPTED,
}
STATUS_FROM_PB = {number: name for name, number in STATUS_TO_PB.items()}


def time_of(stamp: Timestamp, default: datetime) -> datetime:
    """A set protobuf Timestamp as an aware datetime, else `default`."""
    if not stamp.seconds and not stamp.nanos:
        return default
    return stamp.ToDatetime(tzinfo=UTC)


def samples_of(samples: Iterable[tx.MeterSample], default: datetime) -> tuple[Sample, ...]:
    """Domain samples; the samples of one meter value share a time, converted once.

    Hot path (every sample of every event): the repeated field is iterated directly
    (`list()` of it costs more than the loop) and Sample is built positionally, in its
    field order (keywords cost twice as much).
    """
    times: dict[tuple[int, int], datetime] = {}
    built = []
    for s in samples:
        stamp = s.timestamp
        key = (stamp.seconds, stamp.nanos)
        at = times.get(key)
        if at is None:
            at = times[key] = time_of(stamp, default)
        built.append(Sample(at, s.measurand, s.value, s.phase, s.unit, s.context, s.location))
    return tuple(built)


def fact_of(envelope: Envelope) -> TransactionFact | None:
    """The fact a transaction event states; None for types this service does not use."""
    when = occurred_at(envelope)
    if envelope.type == "transaction.started":
        started = unpack(envelope, tx.TransactionStarted)
        at = time_of(started.started_at, when)
        return Started(
            transaction_id=started.transaction_id,
            at=at,
            evse_id=started.evse_id,
            connector_id=started.connector_id,
            id_token=started.id_token.id,
            id_token_type=started.id_token.type,
            meter_start_wh=started.meter_start_wh if started.HasField("meter_start_wh") else None,
            offline=started.offline,
            samples=samples_of(started.samples, at),
        )
    if envelope.type == "transaction.updated":
        updated = unpack(envelope, tx.TransactionUpdated)
        at = time_of(updated.timestamp, when)
        return Updated(
            transaction_id=updated.transaction_id,
            at=at,
            evse_id=updated.evse_id,
            connector_id=updated.connector_id,
            charging_state=updated.charging_state,
            id_token=updated.id_token.id,
            id_token_type=updated.id_token.type,
            offline=updated.offline,
            samples=samples_of(updated.samples, at),
        )
    if envelope.type == "transaction.ended":
        ended = unpack(envelope, tx.TransactionEnded)
        at = time_of(ended.ended_at, when)
        return Ended(
            transaction_id=ended.transaction_id,
            at=at,
            evse_id=ended.evse_id,
            connector_id=ended.connector_id,
            meter_stop_wh=ended.meter_stop_wh if ended.HasField("meter_stop_wh") else None,
            stop_reason=ended.stop_reason,
            id_token=ended.id_token.id,
            id_token_type=ended.id_token.type,
            offline=ended.offline,
            samples=samples_of(ended.samples, at),
        )
    return None


#: Connector statuses that say nothing charges on the outlet, in OCPP spelling.
def seq_gap_of(envelope: Envelope) -> SeqGap | None:
    """The gap a transaction.seq_gap event reports; None for any other event."""
    if envelope.type != "transaction.seq_gap" or not envelope.station_id:
        return None
    gap = unpack(envelope, tx.TransactionSeqGap)
    if not gap.transaction_id:
        return None
    return SeqGap(
        gap.transaction_id, occurred_at(envelope), gap.first_missing_seq_no, gap.received_seq_no
    )


FREEING_STATUS = {
    station_ev.CONNECTOR_STATUS_AVAILABLE: "Available",
    station_ev.CONNECTOR_STATUS_FAULTED: "Faulted",
}


def outlet_freed_of(envelope: Envelope) -> OutletFreed | None:
    """A status event that frees an EVSE / connector; None for any other status."""
    if envelope.type != "station.status_changed" or not envelope.station_id:
        return None
    changed = unpack(envelope, station_ev.StatusChanged)
    status = FREEING_STATUS.get(changed.status)
    if status is None or not (changed.evse_id or changed.connector_id):
        return None  # connector 0 is the whole station: it says nothing of one outlet
    return OutletFreed(
        envelope.station_id,
        occurred_at(envelope),
        changed.evse_id,
        changed.connector_id,
        status,
    )


def session_message(state: SessionState) -> pb.Session:
    """The Session a caller sees; after a reboot the meter stop is the last reading."""
    meter_stop = state.meter_stop_wh
    if meter_stop is None and not state.is_active:
        meter_stop = state.last_register_wh
    message = pb.Session(
        id=state.id,
        station_id=state.station_id,
        site_id=state.site_id,
        evse_id=state.evse_id,
        connector_id=state.connector_id,
        transaction_id=state.transaction_id,
        id_token=tx.IdToken(id=state.id_token, type=state.id_token_type),
        status=STATUS_TO_PB[state.status],
        meter_start_wh=state.meter_start_wh or 0.0,
        meter_stop_wh=meter_stop or 0.0,
        energy_wh=state.energy_wh,
        peak_power_w=state.peak_power_w,
        charging_s=int(state.charging_s),
        stop_reason=state.stop_reason,
        power_w=state.power_w,
        soc_percent=state.soc_percent,
        offline_data=state.offline_data,
        missing_events=state.missing_events,
    )
    set_timestamp(message.started_at, state.started_at)
    set_timestamp(message.updated_at, state.updated_at)
    if state.ended_at is not None:
        set_timestamp(message.ended_at, state.ended_at)
    return message


def sample_message(sample: Sample) -> tx.MeterSample:
    message = tx.MeterSample(
        measurand=sample.measurand,
        phase=sample.phase,
        unit=sample.unit,
        value=sample.value,
        context=sample.context,
        location=sample.location,
    )
    set_timestamp(message.timestamp, sample.at)
    return message


def session_event(
    kind: str, session: pb.Session
) -> pb.SessionOpened | pb.SessionUpdated | pb.SessionClosed:
    """The session.events.v1 payload of `kind` (opened, updated, closed)."""
    if kind == "opened":
        return pb.SessionOpened(session=session)
    if kind == "updated":
        return pb.SessionUpdated(session=session)
    if kind == "closed":
        return pb.SessionClosed(session=session)
    raise ValueError(f"unknown session event kind {kind!r}")
