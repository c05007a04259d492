"""Whether an identifier may charge: the local list, the cache, then the CSMS.

Mirrors the order a real station uses, so a CSMS's local-list and offline policies can be
tested: a listed Accepted tag starts without a round trip when LocalPreAuthorize is on, and
an unreachable CSMS falls back to what the station already knows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chargegrid.simulator.cards import is_master_pass

if TYPE_CHECKING:
    from chargegrid.simulator.station import Station


class Authorizer:
    """Answers "may this tag charge?" for one station."""

    def __init__(self, station: Station) -> None:
        self.station = station

    async def authorize(self, id_tag: str) -> bool:
        station = self.station
        policy = station.policy
        listed = (
            station.local_list.status_of(id_tag, station.clock())
            if policy.local_list_enabled
            else None
        )
        cached = (
            station.auth_cache.status_of(id_tag, station.clock())
            if policy.auth_cache_enabled
            else None
        )
        known = listed or cached
        if is_master_pass(station, station.cards.group(id_tag)):
            # C16: a Master Pass stops transactions; it never starts one.
            station.note(f"authorize {id_tag}: Master Pass, no transaction")
            return False
        if known == "Accepted" and policy.local_pre_authorize:
            return True
        if listed is not None and listed != "Accepted":
            return False
        answer = await station.outbox.send(lambda link: link.authorize(id_tag))
        if answer is None:
            return known == "Accepted" or (known is None and policy.offline_tx_for_unknown_id)
        if policy.auth_cache_enabled:
            station.auth_cache.remember(id_tag, answer, station.cards.cache_until(id_tag))
        station.note(f"authorize {id_tag}: {answer}")
        if is_master_pass(station, station.cards.group(id_tag)):
            station.note(f"authorize {id_tag}: Master Pass, no transaction")
            return False
        return bool(answer == "Accepted")
