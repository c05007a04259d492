"""OCPP 1.6 Core and RemoteTrigger calls: transactions, reset, availability, configuration.

Each handler decides and replies; what the station does as a consequence (start a session,
announce a status, reboot) is deferred until the reply has been sent.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ocpp.v16 import call_result
from ocpp.v16.enums import Action
from websockets.asyncio.client import ClientConnection

from chargegrid.simulator import commands, triggers
from chargegrid.simulator.messages16 import Outbound16
from chargegrid.simulator.model import StopReason, TriggerKind
from chargegrid.simulator.profile_codec import profile_from_16
from chargegrid.simulator.profiles import ChargingProfile, Purpose
from chargegrid.simulator.routing import on

if TYPE_CHECKING:
    from chargegrid.simulator.station16 import Station16


class Core16(Outbound16):
    """Remote start/stop, unlock, reset, availability, configuration keys, triggers."""

    def __init__(self, station: Station16, connection: ClientConnection) -> None:
        super().__init__(station, connection)
        self.configuration = station.configuration

    @on(Action.remote_start_transaction)
    def on_remote_start(
        self,
        id_tag: str,
        connector_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        station = self.station
        rejected = call_result.RemoteStartTransaction(status="Rejected")
        connector = station.charging.free_connector(connector_id, id_tag)
        if connector is None or connector_id == 0:
            return rejected
        profile: ChargingProfile | None = None
        if charging_profile is not None:
            try:
                profile = profile_from_16(charging_profile, connector.connector_id, station.clock())
            except (KeyError, ValueError):
                return rejected
            if profile.purpose is not Purpose.TX:
                return rejected
        self.after_reply(
            partial(
                station.charging.plug_in,
                connector.connector_id,
                id_tag=id_tag,
                authorized=not station.policy.authorize_remote_starts,
                trigger=TriggerKind.REMOTE,
                profile=profile,
            )
        )
        return call_result.RemoteStartTransaction(status="Accepted")

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int, **_: Any) -> Any:
        session = self.station.charging.session_for_transaction(str(transaction_id))
        if session is None:
            return call_result.RemoteStopTransaction(status="Rejected")
        self.after_reply(partial(session.request_stop, StopReason.REMOTE, TriggerKind.REMOTE))
        return call_result.RemoteStopTransaction(status="Accepted")

    @on(Action.unlock_connector)
    def on_unlock_connector(self, connector_id: int, **_: Any) -> Any:
        connector = self.station.connectors.get(connector_id)
        if connector is None:
            return call_result.UnlockConnector(status="NotSupported")
        if connector.session is not None:
            stop = partial(connector.session.request_stop, StopReason.UNLOCK, TriggerKind.REMOTE)
            self.after_reply(stop)
        return call_result.UnlockConnector(status="Unlocked")

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> Any:
        reason = StopReason.HARD_RESET if type == "Hard" else StopReason.SOFT_RESET
        self.defer(partial(self.station.reset, reason))
        return call_result.Reset(status="Accepted")

    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str, **_: Any) -> Any:
        outcome = commands.change_availability(self.station, connector_id, type == "Operative")
        self.announce_later(outcome.changed)
        return call_result.ChangeAvailability(status=outcome.status)

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        known, unknown = self.configuration.get(key)
        return call_result.GetConfiguration(
            configuration_key=[
                {
                    "key": name,
                    "readonly": entry.readonly,
                    "value": None if entry.write_only else entry.current,
                }
                for name, entry in known
            ],
            unknown_key=unknown or None,
        )

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str, **_: Any) -> Any:
        return call_result.ChangeConfiguration(status=self.configuration.change(key, value))

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> Any:
        return call_result.TriggerMessage(status=self._trigger(requested_message, connector_id))

    @on(Action.extended_trigger_message)
    def on_extended_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> Any:
        if requested_message == "SignChargePointCertificate":
            requested_message = "SignChargingStationCertificate"
        status = self._trigger(requested_message, connector_id)
        return call_result.ExtendedTriggerMessage(status=status)

    def _trigger(self, message: str, connector_id: int | None) -> str:
        if message not in triggers.SUPPORTED:
            return "NotImplemented"
        connectors = triggers.connectors_for(self.station, connector_id)
        if connectors is None:
            return "Rejected"
        self.defer(partial(triggers.send_triggered, self.station, message, connectors))
        return "Accepted"

    @on(Action.data_transfer)
    def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None, **_: Any
    ) -> Any:
        if vendor_id != self.station.config.vendor:
            return call_result.DataTransfer(status="UnknownVendorId")
        return call_result.DataTransfer(status="Accepted", data=data)
