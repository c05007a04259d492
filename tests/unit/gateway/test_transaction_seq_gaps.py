"""E12 / seqNo: a 2.x TransactionEvent skipping seqNos on its connection is counted and
published as transaction.seq_gap; in-order, repeated and first-seen events are not."""

from __future__ import annotations

from datetime import UTC, datetime

from chargegrid.api.transaction.v1 import events_pb2 as tx_events
from chargegrid.gateway.metrics import TRANSACTION_SEQ_GAPS
from chargegrid.gateway.ocpp201.seq_gaps import MAX_TRACKED, seq_gap
from chargegrid.gateway.protocol.versions import OcppVersion
from chargegrid.gateway.routing import StationInfo


def a_station() -> StationInfo:
    return StationInfo(
        "CP-1", OcppVersion.V201, "gw", "127.0.0.1", datetime(2026, 1, 1, tzinfo=UTC)
    )


def test_E12_a_skipped_seq_no_is_published_with_the_missing_range_and_counted() -> None:
    station = a_station()
    before = TRANSACTION_SEQ_GAPS._value.get()

    assert seq_gap(station, "T1", 0, "Started", 1) is None
    assert seq_gap(station, "T1", 1, "Updated", 1) is None
    gap = seq_gap(station, "T1", 4, "Updated", 1)

    assert gap is not None
    assert gap.type == "transaction.seq_gap"
    assert isinstance(gap.payload, tx_events.TransactionSeqGap)
    assert (gap.payload.first_missing_seq_no, gap.payload.received_seq_no) == (2, 4)
    assert TRANSACTION_SEQ_GAPS._value.get() == before + 1


def test_repeats_late_events_and_a_first_seen_transaction_are_no_gap() -> None:
    station = a_station()
    assert seq_gap(station, "T2", 7, "Updated", 1) is None  # first seen on this connection
    assert seq_gap(station, "T2", 7, "Updated", 1) is None  # resent
    assert seq_gap(station, "T2", 5, "Updated", 1) is None  # late, below the highest
    assert seq_gap(station, "T2", 8, "Ended", 1) is None
    assert "T2" not in station.transaction_seq  # forgotten once ended


def test_an_ended_event_after_a_gap_is_still_reported() -> None:
    station = a_station()
    seq_gap(station, "T3", 0, "Started", 2)
    gap = seq_gap(station, "T3", 3, "Ended", 2)
    assert gap is not None
    assert isinstance(gap.payload, tx_events.TransactionSeqGap)
    assert gap.payload.evse_id == 2


def test_only_a_bounded_number_of_transactions_is_tracked_per_connection() -> None:
    station = a_station()
    for i in range(MAX_TRACKED + 10):
        seq_gap(station, f"T{i}", 0, "Started", 1)
    assert len(station.transaction_seq) == MAX_TRACKED
