"""OCPP 1.6 Local Auth List Management and Reservation calls.

The local list and cache decide who may charge without asking the CSMS; reservations hold
a connector for one id tag until they expire or are cancelled.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from chargegrid.simulator import commands
from chargegrid.simulator.clock import parse_iso
from chargegrid.simulator.local_auth import AuthEntry
from chargegrid.simulator.messages16 import Outbound16
from chargegrid.simulator.routing import on


def _time(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


class Authorization16(Outbound16):
    """SendLocalList, GetLocalListVersion, ClearCache, ReserveNow, CancelReservation."""

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        if not self.station.policy.local_list_enabled:
            return call_result.SendLocalList(status="NotSupported")
        entries = []
        for item in local_authorization_list or []:
            info = item.get("id_tag_info")
            entries.append(
                AuthEntry(
                    id_tag=item["id_tag"],
                    status=info["status"] if info else None,
                    expires_at=_time(info.get("expiry_date")) if info else None,
                )
            )
        result = self.station.local_list.update(
            list_version, full=update_type == "Full", entries=entries
        )
        return call_result.SendLocalList(status=result.value)

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> Any:
        enabled = self.station.policy.local_list_enabled
        version = self.station.local_list.version if enabled else -1
        return call_result.GetLocalListVersion(list_version=version)

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> Any:
        self.station.auth_cache.clear()
        return call_result.ClearCache(status="Accepted")

    @on(Action.reserve_now)
    def on_reserve_now(
        self, connector_id: int, expiry_date: str, id_tag: str, reservation_id: int, **_: Any
    ) -> Any:
        if connector_id == 0:
            return call_result.ReserveNow(status="Rejected")
        outcome = commands.reserve(
            self.station, reservation_id, connector_id, id_tag, parse_iso(expiry_date)
        )
        self.announce_later(outcome.changed)
        if outcome.status == "Accepted":
            connector = self.station.connectors[connector_id]
            self.defer(partial(commands.expire_reservation, self.station, connector))
        return call_result.ReserveNow(status=outcome.status)

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        outcome = commands.cancel_reservation(self.station, reservation_id)
        self.announce_later(outcome.changed)
        return call_result.CancelReservation(status=outcome.status)
