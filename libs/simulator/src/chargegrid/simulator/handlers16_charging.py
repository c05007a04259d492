"""OCPP 1.6 Smart Charging calls: set, clear and inspect charging profiles.

A changed profile takes effect on running sessions right after the reply: each settles its
energy at the old power and continues at the new limit.
"""

from __future__ import annotations

from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from chargegrid.simulator import commands
from chargegrid.simulator.messages16 import Outbound16
from chargegrid.simulator.profile_codec import PURPOSES_16, composite_to_16, profile_from_16
from chargegrid.simulator.routing import on


class SmartCharging16(Outbound16):
    """SetChargingProfile, ClearChargingProfile, GetCompositeSchedule."""

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> Any:
        try:
            profile = profile_from_16(cs_charging_profiles, connector_id, self.station.clock())
        except (KeyError, ValueError):
            return call_result.SetChargingProfile(status="Rejected")
        if not commands.install_profile(self.station, profile):
            return call_result.SetChargingProfile(status="Rejected")
        self.defer(self.station.charging.limits_changed)
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> Any:
        cleared = self.station.profiles.clear(
            profile_id=id,
            connector_id=connector_id,
            purpose=PURPOSES_16[charging_profile_purpose] if charging_profile_purpose else None,
            stack_level=stack_level,
        )
        if not cleared:
            return call_result.ClearChargingProfile(status="Unknown")
        self.defer(self.station.charging.limits_changed)
        return call_result.ClearChargingProfile(status="Accepted")

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        composite = commands.composite_for(
            self.station, connector_id, int(duration), charging_rate_unit
        )
        if composite is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        schedule = composite_to_16(composite)
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=schedule["start_schedule"],
            charging_schedule=schedule,
        )
