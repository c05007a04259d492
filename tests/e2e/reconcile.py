"""What the stations were answered for against what the services hold, after kills.

Shared by the broker-crash e2e test and the chaos suite (bench/chaos.py): each transaction a
station had acknowledged from start to end must be exactly one COMPLETED session (session
gRPC) with the station's energy and exactly one CDR (billing gRPC) with that energy.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from chargegrid.api.billing.v1 import billing_pb2 as billing_pb
from chargegrid.api.common.v1 import common_pb2 as common_pb
from chargegrid.api.session.v1 import session_pb2 as session_pb
from tests.e2e.test_lost_transactions_through_the_stack import Services

#: Energies agree to a tenth of a Wh (2.x stations report one decimal, CDRs are in kWh).
ENERGY_TOLERANCE_WH = 0.1


@dataclass(frozen=True)
class Done:
    """One transaction as the station saw it: started and ended, both acknowledged."""

    station_id: str
    transaction_id: str
    energy_wh: float
    started_at: float = 0.0  # time.monotonic() of the start, to attribute a fault to a kill
    ended_at: float = 0.0


@dataclass
class Finding:
    """One transaction the services got wrong, and what they hold for it."""

    station_id: str
    transaction_id: str
    problem: str  # "lost", "doubled", "energy_mismatch", "still_active", "not_billed"
    station_energy_wh: float
    detail: str
    kills: list[str] = field(default_factory=list)


@dataclass
class Reconciliation:
    transactions: int = 0
    findings: list[Finding] = field(default_factory=list)

    def count(self, problem: str) -> int:
        return sum(1 for f in self.findings if f.problem == problem)

    @property
    def lost(self) -> int:
        return self.count("lost") + self.count("not_billed")

    @property
    def doubled(self) -> int:
        return self.count("doubled")

    @property
    def energy_mismatch(self) -> int:
        return self.count("energy_mismatch")

    @property
    def still_active(self) -> int:
        return self.count("still_active")

    @property
    def ok(self) -> bool:
        return not self.findings

    def describe(self) -> list[dict[str, Any]]:
        return [asdict(f) for f in self.findings]


async def all_cdrs(services: Services, station_id: str) -> list[billing_pb.Cdr]:
    """Every CDR of one station, page after page."""
    found: list[billing_pb.Cdr] = []
    token = ""
    while True:
        page = common_pb.PageRequest(page_size=500, page_token=token)
        reply = await services.billing.ListCdrs(
            billing_pb.ListCdrsRequest(station_id=station_id, page=page)
        )
        found += reply.cdrs
        token = reply.next_page_token
        if not token:
            return found


async def active_sessions(services: Services, station_id: str) -> list[session_pb.Session]:
    """The sessions the session service still holds ACTIVE for one station."""
    found: list[session_pb.Session] = []
    token = ""
    while True:
        request = session_pb.ListSessionsRequest(
            station_id=station_id,
            status=session_pb.SESSION_STATUS_ACTIVE,
            page=common_pb.PageRequest(page_size=500, page_token=token),
        )
        reply = await services.sessions.ListSessions(request)
        found += reply.sessions
        token = reply.next_page_token
        if not token:
            return found


async def _settled(services: Services, done: list[Done], deadline: float) -> None:
    """Wait (until `deadline`) for every transaction to be completed and billed at least once."""
    pending = list(done)
    while pending and time.monotonic() < deadline:
        still: list[Done] = []
        cdrs: dict[str, set[str]] = {}
        for tx in pending:
            got = await services.session(tx.station_id, tx.transaction_id)
            if got is None or got.status != session_pb.SESSION_STATUS_COMPLETED:
                still.append(tx)
                continue
            if tx.station_id not in cdrs:
                try:
                    cdrs[tx.station_id] = {
                        c.session_id for c in await all_cdrs(services, tx.station_id)
                    }
                except Exception:  # billing is coming back from a kill
                    cdrs[tx.station_id] = set()
            if got.id not in cdrs[tx.station_id]:
                still.append(tx)
        pending = still
        if pending:
            await asyncio.sleep(1.0)


async def reconcile(
    services: Services,
    done: list[Done],
    settle_timeout_s: float = 180,
    idle_stations: dict[str, set[str]] | None = None,
) -> Reconciliation:
    """Wait for the stack to settle (bounded), then check every transaction once.

    `idle_stations`: stations that no longer charge, each with the transactions whose end it
    could not deliver (so an ACTIVE session for those is the station's doing, not a fault);
    any other session ACTIVE on them is counted as `still_active`.
    """
    await _settled(services, done, time.monotonic() + settle_timeout_s)
    await asyncio.sleep(2)  # time for a second CDR to appear, were one made
    result = Reconciliation(transactions=len(done))
    cdrs: dict[str, list[billing_pb.Cdr]] = {}
    for tx in done:
        if tx.station_id not in cdrs:
            cdrs[tx.station_id] = await all_cdrs(services, tx.station_id)

        def finding(problem: str, detail: str, tx: Done = tx) -> None:
            result.findings.append(
                Finding(tx.station_id, tx.transaction_id, problem, tx.energy_wh, detail)
            )

        session = await services.session(tx.station_id, tx.transaction_id)
        if session is None:
            finding("lost", "no session")
            continue
        status = session_pb.SessionStatus.Name(session.status)
        if session.status == session_pb.SESSION_STATUS_ACTIVE:
            finding("still_active", f"session {session.id} ACTIVE after the station ended it")
        elif session.status != session_pb.SESSION_STATUS_COMPLETED:
            finding("energy_mismatch", f"session {session.id} {status} ({session.stop_reason})")
        if abs(session.energy_wh - tx.energy_wh) > ENERGY_TOLERANCE_WH:
            finding("energy_mismatch", f"session {session.id} has {session.energy_wh} Wh")
        billed = [c for c in cdrs[tx.station_id] if c.session_id == session.id]
        if not billed:
            finding("not_billed", f"session {session.id} {status}, no CDR")
        elif len(billed) > 1:
            finding("doubled", f"session {session.id}: {len(billed)} CDRs")
        for cdr in billed:
            kwh = Decimal(cdr.energy_kwh)
            if abs(kwh * 1000 - Decimal(str(tx.energy_wh))) > Decimal(str(ENERGY_TOLERANCE_WH)):
                finding("energy_mismatch", f"CDR {cdr.id} has {cdr.energy_kwh} kWh")
    checked = {(tx.station_id, tx.transaction_id) for tx in done}
    for station_id, unended in (idle_stations or {}).items():
        for session in await active_sessions(services, station_id):
            key = (station_id, session.transaction_id)
            if key not in checked and session.transaction_id not in unended:
                result.findings.append(
                    Finding(
                        station_id,
                        session.transaction_id,
                        "still_active",
                        0.0,
                        f"session {session.id} ACTIVE, the station is idle",
                    )
                )
    return result
