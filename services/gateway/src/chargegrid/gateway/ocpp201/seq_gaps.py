"""2.x TransactionEvent seqNo gaps (E12 / the seqNo rule of E01), seen per connection.

A station numbers the events of each transaction 0, 1, 2, ... and sends them in order, its
offline queue included. On one connection, an event whose seqNo is beyond the next expected
one means events were lost in between: counted (`chargegrid_gateway_transaction_seq_gaps_
total`) and published as `transaction.seq_gap` beside the event itself; the session
service adds the missing count to the session (`missing_events`, `chargegrid sessions
show`). Only the highest seqNo per open transaction is kept on the connection (at most
`MAX_TRACKED`, oldest dropped); a gap across a reconnect or a gateway restart is not seen,
and nothing is asked of the station (GetTransactionStatus after a boot is the session
service's, E14).
"""

from __future__ import annotations

from chargegrid.api.transaction.v1 import events_pb2 as tx_events
from chargegrid.gateway.events import transaction_event
from chargegrid.gateway.metrics import TRANSACTION_SEQ_GAPS
from chargegrid.gateway.routing import Emit, StationInfo

MAX_TRACKED = 64


def seq_gap(
    station: StationInfo, transaction_id: str, seq_no: int, event_type: str, evse_id: int
) -> Emit | None:
    """The gap event when `seq_no` skips numbers; remembers the highest seqNo seen."""
    seen = station.transaction_seq
    last = seen.pop(transaction_id, None)
    if event_type != "Ended":
        seen[transaction_id] = seq_no if last is None else max(last, seq_no)
        while len(seen) > MAX_TRACKED:
            seen.pop(next(iter(seen)))
    if last is None or seq_no <= last + 1:
        return None
    TRANSACTION_SEQ_GAPS.inc()
    gap = tx_events.TransactionSeqGap(
        transaction_id=transaction_id,
        first_missing_seq_no=last + 1,
        received_seq_no=seq_no,
        evse_id=evse_id,
    )
    return transaction_event("seq_gap", gap)
