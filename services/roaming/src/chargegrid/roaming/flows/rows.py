"""Tables of what was sent about partners' sessions and CDRs (migration 0002) and of CDRs
waiting for their token's partner (migration 0003)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from chargegrid.platform.db_types import UtcDateTime
from chargegrid.roaming.models import Base


class RoamingSessionRow(Base):
    """A partner's driver's session: the OCPI Session as last built and when it was pushed."""

    __tablename__ = "roaming_sessions"

    session_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    ocpi_id: Mapped[str] = mapped_column(String(36), index=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    #: The OCPI Session as last built (JSON); what GET answers.
    body: Mapped[str] = mapped_column(Text)
    #: The Session as last pushed (JSON): a PATCH sends what differs from it.
    pushed: Mapped[str] = mapped_column(Text)
    pushed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class RoamingCdrRow(Base):
    """A CDR sent to a partner: one row per billing CDR, so it is POSTed exactly once."""

    __tablename__ = "roaming_cdrs"

    cdr_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    ocpi_id: Mapped[str] = mapped_column(String(39), index=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[str] = mapped_column(Text)
    last_updated: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class UnownedCdrRow(Base):
    """A billing CDR of a token no partner is known for yet (migration 0003): kept and sent
    when the token arrives (a push, a pull, a real-time answer), pruned after
    `UNOWNED_CDR_RETENTION_DAYS` (then it was not roaming)."""

    __tablename__ = "unowned_cdrs"

    cdr_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    #: The token uid, upper-cased (OCPI CiString).
    uid: Mapped[str] = mapped_column(String(64), index=True)
    #: The serialized billing Cdr.
    cdr: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
