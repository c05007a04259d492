"""Tables that keep OCPI commands across restarts (migration 0003).

A command is a row from the moment it is ACCEPTED until its CommandResult is in the outbox
(status PENDING -> ANSWERED), so a restart in between still answers the partner (TIMEOUT).
A reservation remembers the station RESERVE_NOW went to, so CANCEL_RESERVATION still finds
it after a restart.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from chargegrid.platform.db_types import UtcDateTime
from chargegrid.roaming.models import Base

PENDING, ANSWERED = "PENDING", "ANSWERED"


class CommandRow(Base):
    __tablename__ = "roaming_commands"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64), index=True)
    command: Mapped[str] = mapped_column(String(32))
    #: The StationControl method and its serialized request.
    method: Mapped[str] = mapped_column(String(32))
    request: Mapped[bytes] = mapped_column(LargeBinary)
    response_url: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), index=True)
    result: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ReservationRow(Base):
    __tablename__ = "roaming_reservations"

    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reservation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(64))
    #: The OCPP reservation id the station was given.
    number: Mapped[int] = mapped_column(Integer)
    expiry: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
