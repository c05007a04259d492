"""`Session` to JSON without `json_format`: the live sessions page lists every open one.

`MessageToDict` walks descriptors for each of the (1,000 in the benchmark) sessions; this
writes the same dict field by field (snake_case names, enum names, RFC 3339 timestamps only
when set, 64-bit integers as strings, defaults included). A test compares both on a fully
populated session, so a field added to the proto and not here fails it.
"""

from __future__ import annotations

from typing import Any

from chargegrid.api.session.v1 import session_pb2 as pb
from chargegrid.api.transaction.v1 import events_pb2 as tx

_STATUS = {v: k for k, v in pb.SessionStatus.items()}
_TIMES = ("started_at", "ended_at", "updated_at")


def _id_token(token: tx.IdToken) -> dict[str, Any]:
    return {"id": token.id, "type": token.type}


def session_json(s: pb.Session) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s.id,
        "station_id": s.station_id,
        "site_id": s.site_id,
        "evse_id": s.evse_id,
        "connector_id": s.connector_id,
        "transaction_id": s.transaction_id,
        "status": _STATUS.get(s.status, s.status),
        "meter_start_wh": s.meter_start_wh,
        "meter_stop_wh": s.meter_stop_wh,
        "energy_wh": s.energy_wh,
        "peak_power_w": s.peak_power_w,
        "charging_s": str(s.charging_s),
        "stop_reason": s.stop_reason,
        "power_w": s.power_w,
        "soc_percent": s.soc_percent,
        "offline_data": s.offline_data,
        "missing_events": s.missing_events,
    }
    if s.HasField("id_token"):
        out["id_token"] = _id_token(s.id_token)
    for name in _TIMES:
        if s.HasField(name):  # type: ignore[arg-type]  # one of the three Timestamp fields
            out[name] = getattr(s, name).ToJsonString()
    return out


def session_list_json(reply: pb.ListSessionsReply) -> dict[str, Any]:
    return {
        "sessions": [session_json(s) for s in reply.sessions],
        "next_page_token": reply.next_page_token,
        "total": reply.total,
    }
