"""Sessions closed because their station lost the transaction, counted once committed.

A lost transaction is closed by reconciliation (a reboot, a new transaction or a freed
outlet, GetTransactionStatus, the operator); how often that happens, and why, is what an
operator watches to find stations (or a broker) that lose messages. The count is taken
after the commit, so a batch that is rolled back and retried counts its closes once.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

LOST_CLOSED = Counter(
    "chargegrid_session_lost_transactions_closed_total",
    "Sessions closed because the station lost the transaction, by the fact that closed them "
    "(Reboot, NewTransaction, Available/Faulted outlet, NotOngoing, EndedByOperator).",
    ["reason"],
)
_KEY = "chargegrid_lost_closed"


def note_lost_close(db: AsyncSession, reason: str) -> None:
    """Count `reason` once the transaction `db` runs in commits."""
    db.info.setdefault(_KEY, []).append(reason or "unknown")


@event.listens_for(Session, "after_commit")
def _count(session: Session) -> None:
    for reason in session.info.pop(_KEY, ()):
        LOST_CLOSED.labels(reason=reason).inc()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session, *_: Any) -> None:
    session.info.pop(_KEY, None)
