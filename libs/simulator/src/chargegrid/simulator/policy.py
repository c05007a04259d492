"""The station's behaviour settings that a CSMS can change at run time.

1.6 configuration keys and 2.x device-model variables both end up here, so the charging
logic reads one set of names whichever version changed them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from chargegrid.simulator.config import StationConfig
from chargegrid.simulator.meter import DEFAULT_MEASURANDS


@dataclass
class StationPolicy:
    """Run-time settings with their OCPP defaults."""

    heartbeat_interval_s: float
    meter_interval_s: float
    measurands: tuple[str, ...] = DEFAULT_MEASURANDS
    ended_measurands: tuple[str, ...] = DEFAULT_MEASURANDS[:1]
    authorize_remote_starts: bool = False
    local_pre_authorize: bool = True
    local_list_enabled: bool = True
    auth_cache_enabled: bool = True
    offline_tx_for_unknown_id: bool = False
    stop_on_invalid_id: bool = True
    #: 2.x AuthCtrlr.MasterPassGroupId: cards of this group stop every transaction (C16).
    master_pass_group_id: str = ""
    heartbeat_changed: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def from_config(cls, config: StationConfig) -> StationPolicy:
        return cls(
            heartbeat_interval_s=config.heartbeat_fallback_s,
            meter_interval_s=config.meter_interval_s,
        )

    def set_heartbeat(self, seconds: float) -> None:
        """Change the heartbeat interval and wake the heartbeat loop to use it."""
        self.heartbeat_interval_s = seconds
        self.heartbeat_changed.set()
