"""OCPP 2.x local authorization list, cache and reservation calls.

The local list and cache decide who may charge without asking the CSMS; reservations hold
an EVSE for one token until they expire or are cancelled.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from chargegrid.simulator import commands
from chargegrid.simulator.clock import parse_iso
from chargegrid.simulator.link import OfflineError
from chargegrid.simulator.local_auth import AuthEntry
from chargegrid.simulator.messages2x import Outbound2x
from chargegrid.simulator.model import Connector
from chargegrid.simulator.routing import on


def _time(value: str | None) -> datetime | None:
    return parse_iso(value) if value else None


class Authorization2x(Outbound2x):
    """SendLocalList, GetLocalListVersion, ClearCache, ReserveNow, CancelReservation."""

    @on("SendLocalList")
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> Any:
        if not self.station.policy.local_list_enabled:
            return self._call_result.SendLocalList(status="Failed")
        entries = []
        for item in local_authorization_list or []:
            info = item.get("id_token_info")
            entries.append(
                AuthEntry(
                    id_tag=item["id_token"]["id_token"],
                    status=info["status"] if info else None,
                    expires_at=_time(info.get("cache_expiry_date_time")) if info else None,
                )
            )
        result = self.station.local_list.update(
            version_number, full=update_type == "Full", entries=entries
        )
        return self._call_result.SendLocalList(status=result.value)

    @on("GetLocalListVersion")
    def on_get_local_list_version(self, **_: Any) -> Any:
        return self._call_result.GetLocalListVersion(version_number=self.station.local_list.version)

    @on("ClearCache")
    def on_clear_cache(self, **_: Any) -> Any:
        if not self.station.policy.auth_cache_enabled:
            return self._call_result.ClearCache(status="Rejected")
        self.station.auth_cache.clear()
        return self._call_result.ClearCache(status="Accepted")

    @on("ReserveNow")
    def on_reserve_now(
        self,
        id: int,
        expiry_date_time: str,
        id_token: dict[str, Any],
        evse_id: int | None = None,
        **_: Any,
    ) -> Any:
        outcome = commands.reserve(
            self.station, id, evse_id, id_token["id_token"], parse_iso(expiry_date_time)
        )
        self.announce_later(outcome.changed)
        if outcome.status == "Accepted":
            reserved = [c for c in outcome.changed if c.reservation is not None]
            for connector in reserved:
                self.defer(partial(self._expire, connector))
        return self._call_result.ReserveNow(status=outcome.status)

    async def _expire(self, connector: Connector) -> None:
        """H04: an expired reservation is reported as ReservationStatusUpdate Expired."""
        expired = await commands.expire_reservation(self.station, connector)
        if expired is None:
            return
        try:
            await self.request(
                self._call.ReservationStatusUpdate(
                    reservation_id=expired, reservation_update_status="Expired"
                )
            )
        except OfflineError:
            self.station.note(f"reservation {expired} expired while offline")

    @on("CancelReservation")
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        outcome = commands.cancel_reservation(self.station, reservation_id)
        self.announce_later(outcome.changed)
        return self._call_result.CancelReservation(status=outcome.status)
