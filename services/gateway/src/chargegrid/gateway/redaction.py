"""Secrets in the frames the CSMS sends are masked before the exchange is archived.

Every exchange goes to `ocpp.frames.v1`, kept for weeks and readable by every consumer, so
the few calls that carry a credential are stored with it replaced by `***`: 1.6
ChangeConfiguration of AuthorizationKey (the Basic password), 2.x SetVariables of
SecurityCtrlr BasicAuthPassword, and 2.x SetNetworkProfile's VPN and APN passwords, key and
SIM PIN. Only these actions are parsed; every other frame is archived as it was sent.
"""

from __future__ import annotations

from typing import Any

import orjson

MASK = "***"
_PASSWORD_KEYS_16 = frozenset({"AuthorizationKey"})
_PASSWORD_VARIABLES = frozenset({"BasicAuthPassword"})
_NETWORK_SECRETS = frozenset({"password", "key", "apnPassword", "simPin"})


def _change_configuration(payload: dict[str, Any]) -> None:
    if payload.get("key") in _PASSWORD_KEYS_16 and "value" in payload:
        payload["value"] = MASK


def _set_variables(payload: dict[str, Any]) -> None:
    for item in payload.get("setVariableData") or ():
        variable = item.get("variable") if isinstance(item, dict) else None
        if isinstance(variable, dict) and variable.get("name") in _PASSWORD_VARIABLES:
            item["attributeValue"] = MASK


def _set_network_profile(payload: dict[str, Any]) -> None:
    connection = payload.get("connectionData")
    if not isinstance(connection, dict):
        return
    for part in ("vpn", "apn"):
        section = connection.get(part)
        if isinstance(section, dict):
            for key in _NETWORK_SECRETS & section.keys():
                section[key] = MASK


_MASKERS = {
    "ChangeConfiguration": _change_configuration,
    "SetVariables": _set_variables,
    "SetNetworkProfile": _set_network_profile,
}
#: The actions whose CALL may carry a secret: the only ones `redact_call` parses.
SECRET_ACTIONS = frozenset(_MASKERS)


def redact_call(action: str, raw: str) -> str:
    """`raw` (a CALL frame as sent) with its credentials masked; unchanged if it has none."""
    masker = _MASKERS.get(action)
    if masker is None:
        return raw
    try:
        frame = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw
    if not (isinstance(frame, list) and len(frame) == 4 and isinstance(frame[3], dict)):
        return raw
    before = orjson.dumps(frame[3])
    masker(frame[3])
    if orjson.dumps(frame[3]) == before:
        return raw
    return orjson.dumps(frame).decode()
