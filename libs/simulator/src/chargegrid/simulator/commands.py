"""Version-neutral answers to CSMS commands that change connectors or profiles.

The 1.6 and 2.x handlers translate a request, call one of these functions for the decision
and the state change, and defer the resulting notifications until their reply is sent.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from chargegrid.simulator.composite import CompositeSchedule, Window, composite_schedule
from chargegrid.simulator.model import Connector, ConnectorStatus, Reservation
from chargegrid.simulator.profiles import ChargingProfile, Purpose

if TYPE_CHECKING:
    from chargegrid.simulator.station import Station


@dataclass(frozen=True)
class Outcome:
    """A command's status word and the connectors whose status must be announced."""

    status: str
    changed: list[Connector] = field(default_factory=list)


def _targets(station: Station, connector_id: int) -> list[Connector] | None:
    if connector_id == 0:
        return list(station.connectors.values())
    connector = station.connectors.get(connector_id)
    return [connector] if connector else None


def change_availability(station: Station, connector_id: int, operative: bool) -> Outcome:
    """Accepted, Rejected (unknown connector) or Scheduled (a session is running)."""
    targets = _targets(station, connector_id)
    if targets is None:
        return Outcome("Rejected")
    scheduled = False
    changed = []
    for connector in targets:
        if connector.session is not None:
            if connector.operative != operative:
                connector.scheduled_operative = operative
                scheduled = True
            continue
        if connector.operative != operative:
            connector.operative = operative
            connector.status = connector.idle_status
            changed.append(connector)
    return Outcome("Scheduled" if scheduled else "Accepted", changed)


def reserve(
    station: Station,
    reservation_id: int,
    connector_id: int | None,
    id_tag: str,
    expires_at: datetime,
) -> Outcome:
    """ReserveNow: Accepted, Occupied, Unavailable, Faulted or Rejected."""
    released = cancel_reservation(station, reservation_id)
    if connector_id is None:
        free = [c for c in station.connectors.values() if _reservable(c)]
        connector = free[0] if free else None
        if connector is None:
            return Outcome("Occupied", released.changed)
    elif connector_id not in station.connectors:
        return Outcome("Rejected", released.changed)
    else:
        connector = station.connectors[connector_id]
    if not connector.operative:
        return Outcome("Unavailable", released.changed)
    if connector.status is ConnectorStatus.FAULTED:
        return Outcome("Faulted", released.changed)
    if not _reservable(connector):
        return Outcome("Occupied", released.changed)
    connector.reservation = Reservation(reservation_id, connector.connector_id, id_tag, expires_at)
    connector.status = ConnectorStatus.RESERVED
    return Outcome("Accepted", [*released.changed, connector])


def _reservable(connector: Connector) -> bool:
    return connector.operative and connector.session is None and connector.reservation is None


def cancel_reservation(station: Station, reservation_id: int) -> Outcome:
    """Accepted with the freed connector, or Rejected when no such reservation exists."""
    for connector in station.connectors.values():
        reservation = connector.reservation
        if reservation is not None and reservation.reservation_id == reservation_id:
            connector.reservation = None
            if connector.session is None:
                connector.status = connector.idle_status
            return Outcome("Accepted", [connector])
    return Outcome("Rejected")


async def expire_reservation(station: Station, connector: Connector) -> int | None:
    """Free the connector when its reservation runs out (unless it was used or replaced);
    the id of the reservation that expired, None when it did not."""
    reservation = connector.reservation
    if reservation is None:
        return None
    await asyncio.sleep(max(0.0, (reservation.expires_at - station.clock()).total_seconds()))
    if connector.reservation is not reservation:
        return None
    connector.reservation = None
    if connector.session is None:
        connector.status = connector.idle_status
        await station.charging.announce(connector)
    return reservation.reservation_id


def install_profile(station: Station, profile: ChargingProfile) -> bool:
    """SetChargingProfile's rules: station-wide purposes on 0, TxProfile only in a transaction;
    a station configured to refuse smart charging installs nothing."""
    if station.config.reject_charging_profiles:
        station.note(f"profile {profile.profile_id} ({profile.purpose}) refused")
        return False
    if profile.connector_id != 0 and profile.connector_id not in station.connectors:
        return False
    if profile.purpose is Purpose.STATION_MAX and profile.connector_id != 0:
        return False
    if profile.purpose is Purpose.TX:
        connector = station.connectors.get(profile.connector_id)
        session = connector.session if connector else None
        if session is None or not session.transaction_started.is_set():
            return False
        if session.transaction_id is None:
            return False
        if profile.transaction_id not in (None, session.transaction_id):
            return False
        profile = profile.for_transaction(session.transaction_id)
    station.profiles.install(profile)
    station.note(f"profile {profile.profile_id} ({profile.purpose}) on {profile.connector_id}")
    return True


def composite_for(
    station: Station, connector_id: int, duration_s: int, unit: str | None
) -> CompositeSchedule | None:
    """GetCompositeSchedule for a connector (0: the whole station); None when unknown."""
    if connector_id != 0 and connector_id not in station.connectors:
        return None
    connector = station.connectors.get(connector_id)
    session = connector.session if connector else None
    config = station.config
    window = Window(
        connector_id=connector_id,
        start=station.clock(),
        duration_s=duration_s,
        unit=unit or "W",
        voltage_v=config.voltage_v,
        phases=config.phases,
        connector_max_w=config.connector_max_w * (1 if connector_id else config.connectors),
        tx_start=session.started_at if session else None,
        transaction_id=session.transaction_id if session else None,
    )
    return composite_schedule(station.profiles, window)
