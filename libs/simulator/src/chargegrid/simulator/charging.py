"""Charging sessions: plug in, authorise, transact, meter, stop, unplug.

This is the version-neutral heart of the simulator. Power each meter tick is the least of
what the car accepts, what the connector is rated for and what the CSMS's profiles allow;
energy is that power integrated over (scaled) clock time, so the register a CSMS bills on
behaves like a real meter.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import TYPE_CHECKING

from chargegrid.simulator.ev import ElectricVehicle, EVSpec
from chargegrid.simulator.meter import MeterReading
from chargegrid.simulator.model import (
    RFID_CARD,
    ChargingState,
    Connector,
    ConnectorStatus,
    Session,
    StopReason,
    TriggerKind,
)
from chargegrid.simulator.profiles import ChargingProfile

if TYPE_CHECKING:
    from chargegrid.simulator.link import Link
    from chargegrid.simulator.station import Station

log = logging.getLogger("chargegrid.simulator")

_STATUS_FOR_STATE = {
    ChargingState.CHARGING: ConnectorStatus.CHARGING,
    ChargingState.SUSPENDED_EV: ConnectorStatus.SUSPENDED_EV,
    ChargingState.SUSPENDED_EVSE: ConnectorStatus.SUSPENDED_EVSE,
    ChargingState.EV_CONNECTED: ConnectorStatus.PREPARING,
}


class ConnectorBusyError(RuntimeError):
    """No operative, free connector matches the request."""


class ChargingController:
    """Runs the sessions of one station and answers the CSMS's charging commands."""

    def __init__(self, station: Station) -> None:
        self.station = station

    # starting --------------------------------------------------------------------------------

    def free_connector(self, connector_id: int | None, id_tag: str | None) -> Connector | None:
        """An operative connector with no car, not reserved for someone else."""
        connectors = self.station.connectors
        if connector_id is not None:
            candidates = [connectors[connector_id]] if connector_id in connectors else []
        else:
            candidates = sorted(connectors.values(), key=lambda c: c.reservation is None)
        for connector in candidates:
            if not connector.operative or connector.session is not None:
                continue
            reservation = connector.reservation
            if reservation is not None and (id_tag or "").lower() != reservation.id_tag.lower():
                continue
            return connector
        return None

    def plug_in(
        self,
        connector_id: int | None = None,
        *,
        ev: EVSpec | None = None,
        id_tag: str | None = None,
        id_token_type: str = RFID_CARD,
        authorized: bool = False,
        trigger: TriggerKind = TriggerKind.LOCAL,
        remote_start_id: int | None = None,
        profile: ChargingProfile | None = None,
    ) -> Session:
        """Start a session on a free connector; it runs until stopped or the car is full."""
        tag = id_tag or self.station.config.default_id_tag
        connector = self.free_connector(connector_id, tag)
        if connector is None:
            raise ConnectorBusyError(f"no free connector for {connector_id!r}")
        session = Session(
            connector_id=connector.connector_id,
            id_tag=tag,
            ev=ElectricVehicle(ev or self.station.config.ev),
            meter=connector.meter,
            trigger=trigger,
            remote_start_id=remote_start_id,
            authorized=authorized,
            id_token_type=id_token_type,
        )
        if connector.reservation is not None:
            session.reservation_id = connector.reservation.reservation_id
            connector.reservation = None
        connector.session = session
        self.station.note(f"connector {connector.connector_id}: plugged in ({tag})")
        self.station.spawn(self._run(session, connector, profile))
        return session

    # the session -----------------------------------------------------------------------------

    async def _run(
        self, session: Session, connector: Connector, profile: ChargingProfile | None
    ) -> None:
        transacted = False
        try:
            await self._set_status(connector, ConnectorStatus.PREPARING)
            if not session.authorized:
                session.authorized = await self.station.authorizer.authorize(session.id_tag)
            if session.authorized and not session.stop_requested.is_set():
                transacted = await self._start_transaction(session, connector, profile)
            if transacted:
                await self._charge(session, connector)
                await self._end_transaction(session, connector)
                await self._set_status(connector, ConnectorStatus.FINISHING)
        finally:
            connector.session = None
            self.station.profiles.clear_transaction(connector.connector_id)
            if connector.scheduled_operative is not None:
                connector.operative = connector.scheduled_operative
                connector.scheduled_operative = None
            connector.status = connector.idle_status
            self.station.note(f"connector {connector.connector_id}: unplugged")
            try:
                await self.announce(connector)
            finally:
                session.finished.set()

    async def _start_transaction(
        self, session: Session, connector: Connector, profile: ChargingProfile | None
    ) -> bool:
        now = self.station.clock()
        session.started_at = session.last_settled = now
        session.meter_start_wh = connector.meter.register_wh
        session.transaction_id = self.station.new_id()
        reading = self.reading(connector)
        status = await self.station.outbox.send(
            lambda link: link.transaction_started(session, reading), durable=True
        )
        if status is None:
            self.station.note(f"connector {connector.connector_id}: transaction not accepted")
            return False
        session.transaction_started.set()
        self.station.note(f"transaction {session.transaction_id} started ({status})")
        if profile is not None:
            self.station.profiles.install(profile.for_transaction(session.transaction_id))
        if status != "Accepted" and self.station.policy.stop_on_invalid_id:
            session.request_stop(StopReason.DEAUTHORIZED)
        return True

    async def _charge(self, session: Session, connector: Connector) -> None:
        await self._refresh(session, connector)
        while not session.stop_requested.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(
                    session.stop_requested.wait(), self.station.policy.meter_interval_s
                )
            self._settle(session, connector)
            if session.stop_requested.is_set():
                break
            await self._refresh(session, connector)
            await self._report_progress(session, connector)
            if session.ev.full:
                session.request_stop(StopReason.EV_FULL)

    async def _report_progress(self, session: Session, connector: Connector) -> None:
        reading = self.reading(connector)
        await self.station.outbox.send(lambda link: link.transaction_updated(session, reading))

    async def _end_transaction(self, session: Session, connector: Connector) -> None:
        self._settle(session, connector)
        session.power_w = 0.0
        session.meter_stop_wh = connector.meter.register_wh
        reading = self.reading(connector)

        async def end(link: Link) -> bool:
            await link.transaction_ended(session, reading)
            return True

        if await self.station.outbox.send(end, durable=True):
            session.transaction_ended.set()
        self.station.note(
            f"transaction {session.transaction_id} ended ({session.stop_reason}), "
            f"{session.energy_wh:.0f} Wh"
        )

    # power and energy ------------------------------------------------------------------------

    def _settle(self, session: Session, connector: Connector) -> None:
        """Integrate the power in force since the last settlement into the register."""
        now = self.station.clock()
        last = session.last_settled or now
        seconds = max(0.0, (now - last).total_seconds()) * self.station.config.time_scale
        delivered = session.ev.absorb(session.power_w * seconds / 3600.0)
        connector.meter.add(delivered)
        if session.power_w > 0:
            session.charging_seconds += seconds
        session.last_settled = now

    def limit_w(self, session: Session) -> float:
        """The most this session may draw now: connector rating, then every profile."""
        station = self.station
        config = station.config
        now = station.clock()
        caps = [config.connector_max_w]
        connector_cap = station.profiles.connector_limit_w(
            session.connector_id,
            now,
            tx_start=session.started_at,
            transaction_id=session.transaction_id,
            voltage_v=config.voltage_v,
            phases=config.phases,
        )
        if connector_cap is not None:
            caps.append(connector_cap)
        station_cap = station.profiles.station_limit_w(now, config.voltage_v, config.phases)
        if station_cap is not None:
            sharing = max(1, len(self.active_sessions()))
            caps.append(station_cap / sharing)
        return max(0.0, min(caps))

    async def _refresh(self, session: Session, connector: Connector) -> None:
        """Recompute the power draw and tell the CSMS if the charging state changed."""
        acceptance = session.ev.acceptance_w()
        session.power_w = min(acceptance, self.limit_w(session))
        if session.power_w > 0:
            state = ChargingState.CHARGING
        elif acceptance <= 0:
            state = ChargingState.SUSPENDED_EV
        else:
            state = ChargingState.SUSPENDED_EVSE
        if state != session.charging_state:
            session.charging_state = state
            await self._set_status(connector, _STATUS_FOR_STATE[state])
            reading = self.reading(connector)
            await self.station.outbox.send(
                lambda link: link.charging_state_changed(session, reading)
            )

    async def limits_changed(self) -> None:
        """A profile was set or cleared: settle at the old power, continue at the new one."""
        for session in self.active_sessions():
            connector = self.station.connectors[session.connector_id]
            self._settle(session, connector)
            await self._refresh(session, connector)

    def active_sessions(self) -> list[Session]:
        return [
            c.session
            for c in self.station.connectors.values()
            if c.session is not None and c.session.transaction_started.is_set()
        ]

    def reading(self, connector: Connector) -> MeterReading:
        session = connector.session
        config = self.station.config
        return MeterReading(
            energy_wh=connector.meter.register_wh,
            power_w=session.power_w if session else 0.0,
            voltage_v=config.voltage_v,
            phases=config.phases,
            soc_percent=session.ev.soc_percent if session else None,
        )

    # stopping --------------------------------------------------------------------------------

    def session_for_transaction(self, transaction_id: str) -> Session | None:
        for connector in self.station.connectors.values():
            session = connector.session
            if session is not None and session.transaction_id == transaction_id:
                return session
        return None

    async def stop_all(self, reason: StopReason, timeout_s: float = 30.0) -> None:
        """Stop every session and wait until each has reported its end."""
        sessions = [c.session for c in self.station.connectors.values() if c.session]
        for session in sessions:
            session.request_stop(reason)
        if sessions:
            waits = [asyncio.ensure_future(s.finished.wait()) for s in sessions]
            _, late = await asyncio.wait(waits, timeout=timeout_s)
            for task in late:
                task.cancel()

    # status ----------------------------------------------------------------------------------

    async def _set_status(self, connector: Connector, status: ConnectorStatus) -> None:
        if connector.status != status:
            connector.status = status
            await self.announce(connector)

    async def announce(self, connector: Connector, *, force: bool = False) -> None:
        """Send the connector's current status (dropped when offline)."""
        await self.station.outbox.send(lambda link: link.status(connector, force=force))
