"""OCPP 2.x smart-charging calls: set, clear and inspect charging profiles.

A changed profile takes effect on running sessions right after the reply: each settles its
energy at the old power and continues at the new limit.
"""

from __future__ import annotations

from typing import Any

from chargegrid.simulator import commands
from chargegrid.simulator.messages2x import Outbound2x
from chargegrid.simulator.profile_codec import PURPOSES_2X, composite_to_2x, profile_from_2x
from chargegrid.simulator.routing import on


class SmartCharging2x(Outbound2x):
    """SetChargingProfile, ClearChargingProfile, GetCompositeSchedule."""

    @on("SetChargingProfile")
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> Any:
        try:
            profile = profile_from_2x(charging_profile, evse_id, self.station.clock())
        except (KeyError, ValueError, IndexError):
            return self._call_result.SetChargingProfile(status="Rejected")
        if not commands.install_profile(self.station, profile):
            return self._call_result.SetChargingProfile(status="Rejected")
        self.defer(self.station.charging.limits_changed)
        return self._call_result.SetChargingProfile(status="Accepted")

    @on("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        criteria = charging_profile_criteria or {}
        purpose = criteria.get("charging_profile_purpose")
        cleared = self.station.profiles.clear(
            profile_id=charging_profile_id,
            connector_id=criteria.get("evse_id"),
            purpose=PURPOSES_2X.get(purpose) if purpose else None,
            stack_level=criteria.get("stack_level"),
        )
        if not cleared:
            return self._call_result.ClearChargingProfile(status="Unknown")
        self.defer(self.station.charging.limits_changed)
        return self._call_result.ClearChargingProfile(status="Accepted")

    @on("GetCompositeSchedule")
    def on_get_composite_schedule(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        composite = commands.composite_for(self.station, evse_id, int(duration), charging_rate_unit)
        if composite is None:
            return self._call_result.GetCompositeSchedule(status="Rejected")
        return self._call_result.GetCompositeSchedule(
            status="Accepted", schedule=composite_to_2x(composite, evse_id)
        )
