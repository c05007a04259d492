"""Cards presented at a running station: who may stop a transaction, and what is shown.

The CSMS answers Authorize and TransactionEvent with idTokenInfo. Its group decides who may
stop a transaction (2.0.1 C09: a different card of the starting card's group; C16: a card of
the AuthCtrlr.MasterPassGroupId group stops every transaction and may start none), and its
personal message is what the display shows the driver. Tests read both from `CardMemory`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chargegrid.simulator.clock import parse_iso
from chargegrid.simulator.model import RFID_CARD, Session, StopReason

if TYPE_CHECKING:
    from chargegrid.simulator.station import Station


@dataclass(frozen=True)
class ShownMessage:
    """A personal message the station displayed for a card."""

    id_tag: str
    content: str
    language: str | None = None


def group_of(info: dict[str, Any]) -> str:
    """The groupIdToken of an idTokenInfo (snake_case, as the `ocpp` package gives it)."""
    return str((info.get("group_id_token") or {}).get("id_token", ""))


@dataclass
class CardMemory:
    """The group of each card the CSMS answered for, and the messages displayed."""

    groups: dict[str, str] = field(default_factory=dict)
    shown: list[ShownMessage] = field(default_factory=list)
    language: dict[str, str] = field(default_factory=dict)
    #: cacheExpiryDateTime of the last answer per card: how long the cache may keep it.
    cache_expiry: dict[str, datetime] = field(default_factory=dict)

    def learn(self, id_tag: str, info: dict[str, Any]) -> None:
        self.groups[id_tag.lower()] = group_of(info)
        if until := info.get("cache_expiry_date_time"):
            self.cache_expiry[id_tag.lower()] = parse_iso(str(until))
        else:
            self.cache_expiry.pop(id_tag.lower(), None)
        if language := info.get("language1"):
            self.language[id_tag.lower()] = str(language)
        if message := info.get("personal_message"):
            self.shown.append(ShownMessage(id_tag, message["content"], message.get("language")))

    def group(self, id_tag: str) -> str:
        return self.groups.get(id_tag.lower(), "")

    def cache_until(self, id_tag: str) -> datetime | None:
        return self.cache_expiry.get(id_tag.lower())


def is_master_pass(station: Station, group: str) -> bool:
    master = station.policy.master_pass_group_id
    return bool(master) and group.lower() == master.lower()


def _stop(session: Session, id_tag: str, token_type: str, reason: StopReason) -> None:
    if session.id_tag.lower() != id_tag.lower():
        session.stop_id_tag, session.stop_id_token_type = id_tag, token_type
    session.request_stop(reason)


async def present_card(station: Station, id_tag: str, token_type: str = RFID_CARD) -> str:
    """A driver presents a card to stop charging: "stopped" (own card or same group),
    "master_pass" (every transaction stopped), "refused" (the CSMS did not accept it),
    "not_allowed" (accepted, but no transaction is its to stop) or "offline"."""
    running = station.charging.active_sessions()
    own = [s for s in running if s.id_tag.lower() == id_tag.lower()]
    if own:
        _stop(own[0], id_tag, token_type, StopReason.LOCAL)
        return "stopped"
    # While connected, a CALLERROR (the CSMS busy) is retried like a real reader would; only
    # a station without a connection answers "offline" at once.
    info = await station.outbox.send(
        lambda link: link.authorize_token(id_tag, token_type), durable=station.outbox.online
    )
    if info is None:
        return "offline"
    if info["status"] != "Accepted":
        return "refused"
    group = group_of(info)
    if is_master_pass(station, group):
        # C16 without a UI: every ongoing transaction ends, reason MasterPass.
        for session in running:
            _stop(session, id_tag, token_type, StopReason.MASTER_PASS)
        return "master_pass" if running else "not_allowed"
    same_group = [s for s in running if group and s.group_id.lower() == group.lower()]
    if same_group:
        _stop(same_group[0], id_tag, token_type, StopReason.LOCAL)
        return "stopped"
    return "not_allowed"
