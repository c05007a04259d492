"""OCPP 2.x transaction, reset, availability, trigger and data-transfer calls.

Shared by 2.0.1 and 2.1: the concrete link supplies the version's `call_result` module, whose
dataclasses take the same keyword arguments in both. Consequences of a command (a session,
a reboot, a status) are deferred until its reply has been sent.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from chargegrid.simulator import commands, triggers
from chargegrid.simulator.messages2x import Outbound2x
from chargegrid.simulator.model import StopReason, TriggerKind
from chargegrid.simulator.profile_codec import profile_from_2x
from chargegrid.simulator.profiles import ChargingProfile, Purpose
from chargegrid.simulator.routing import on


class Core2x(Outbound2x):
    """RequestStart/StopTransaction, UnlockConnector, Reset, ChangeAvailability, triggers."""

    @on("RequestStartTransaction")
    def on_request_start_transaction(
        self,
        id_token: dict[str, Any],
        remote_start_id: int,
        evse_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        station = self.station
        rejected = self._call_result.RequestStartTransaction(status="Rejected")
        connector = station.charging.free_connector(evse_id, id_token["id_token"])
        if connector is None:
            return rejected
        profile: ChargingProfile | None = None
        if charging_profile is not None:
            try:
                profile = profile_from_2x(charging_profile, connector.connector_id, station.clock())
            except (KeyError, ValueError, IndexError):
                return rejected
            if profile.purpose is not Purpose.TX:
                return rejected
        self.after_reply(
            partial(
                station.charging.plug_in,
                connector.connector_id,
                id_tag=id_token["id_token"],
                id_token_type=id_token["type"],
                authorized=not station.policy.authorize_remote_starts,
                trigger=TriggerKind.REMOTE,
                remote_start_id=remote_start_id,
                profile=profile,
            )
        )
        return self._call_result.RequestStartTransaction(status="Accepted")

    @on("RequestStopTransaction")
    def on_request_stop_transaction(self, transaction_id: str, **_: Any) -> Any:
        session = self.station.charging.session_for_transaction(transaction_id)
        if session is None:
            return self._call_result.RequestStopTransaction(status="Rejected")
        self.after_reply(partial(session.request_stop, StopReason.REMOTE, TriggerKind.REMOTE))
        return self._call_result.RequestStopTransaction(status="Accepted")

    @on("UnlockConnector")
    def on_unlock_connector(self, evse_id: int, connector_id: int, **_: Any) -> Any:
        connector = self.station.connectors.get(evse_id)
        if connector is None or connector_id != 1:
            return self._call_result.UnlockConnector(status="UnknownConnector")
        if connector.session is not None and connector.session.transaction_started.is_set():
            return self._call_result.UnlockConnector(status="OngoingAuthorizedTransaction")
        return self._call_result.UnlockConnector(status="Unlocked")

    # station ---------------------------------------------------------------------------------

    @on("Reset")
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> Any:
        station = self.station
        if evse_id is not None:
            return self._call_result.Reset(status="Rejected")
        if type == "OnIdle" and station.charging.active_sessions():
            self.defer(self._reset_when_idle)
            return self._call_result.Reset(status="Scheduled")
        self.defer(partial(station.reset, StopReason.IMMEDIATE_RESET))
        return self._call_result.Reset(status="Accepted")

    async def _reset_when_idle(self) -> None:
        station = self.station
        while station.charging.active_sessions():
            await asyncio.gather(*(s.finished.wait() for s in station.charging.active_sessions()))
        await station.reset(StopReason.REBOOT)

    @on("ChangeAvailability")
    def on_change_availability(
        self, operational_status: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        evse_id = int(evse["id"]) if evse else 0
        operative = operational_status == "Operative"
        outcome = commands.change_availability(self.station, evse_id, operative)
        self.announce_later(outcome.changed)
        return self._call_result.ChangeAvailability(status=outcome.status)

    @on("TriggerMessage")
    def on_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        station = self.station
        if requested_message == "BootNotification" and station.registration == "Accepted":
            return self._call_result.TriggerMessage(status="Rejected")
        if requested_message not in triggers.SUPPORTED or requested_message.startswith("Diag"):
            return self._call_result.TriggerMessage(status="NotImplemented")
        connectors = triggers.connectors_for(station, int(evse["id"]) if evse else None)
        if connectors is None:
            return self._call_result.TriggerMessage(status="Rejected")
        self.defer(partial(triggers.send_triggered, station, requested_message, connectors))
        return self._call_result.TriggerMessage(status="Accepted")

    @on("DataTransfer")
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None, **_: Any
    ) -> Any:
        if vendor_id != self.station.config.vendor:
            return self._call_result.DataTransfer(status="UnknownVendorId")
        return self._call_result.DataTransfer(status="Accepted", data=data)
