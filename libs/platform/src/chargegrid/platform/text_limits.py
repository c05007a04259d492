"""The longest free text any API stores, in one table, and the check every API uses.

Every stored string has a limit; ids have theirs in `chargegrid.platform.identifiers`, and
free text (names, addresses, descriptions) has its here. Lengths follow OCPI 2.2.1 where a
field is roamed (a site is a Location: name string(255), address and city string(45),
postal_code string(10)) and the OCPP schemas where a value goes to a station (a firmware
location string(512), signingCertificate 5500, signature 800, a connectorType 20; a
configuration value 2500, the longest 2.0.1 GetVariables reports). The database columns are
at least as long, and the APIs refuse longer input, so rows written before a limit still
load.
"""

from __future__ import annotations

from chargegrid.platform.identifiers import InvalidValue

NAME = 255
ADDRESS = 45
CITY = 45
POSTAL_CODE = 10
TIMEZONE = 64
DESCRIPTION = 1_000
REFERENCE = 255
URL = 512
CERTIFICATE = 5_500
SIGNATURE = 800
CONFIGURATION_VALUE = 2_500
REASON = 255
CONNECTOR_TYPE = 20

LIMITS: dict[str, int] = {
    "name": NAME,
    "address": ADDRESS,
    "city": CITY,
    "postal_code": POSTAL_CODE,
    "timezone": TIMEZONE,
    "description": DESCRIPTION,
    "reference": REFERENCE,
    "url": URL,
    "certificate": CERTIFICATE,
    "signature": SIGNATURE,
    "configuration_value": CONFIGURATION_VALUE,
    "reason": REASON,
    "connector_type": CONNECTOR_TYPE,
}


def bounded(value: str, field: str, limit: int) -> str:
    """`value` if it has at most `limit` characters and no control characters other than
    newline and tab; else InvalidValue naming `field` and the limit."""
    if len(value) > limit:
        raise InvalidValue(f"{field} is longer than {limit} characters ({len(value)} given)")
    if any((ord(ch) < 0x20 and ch not in "\n\t") or ch == "\x7f" for ch in value):
        raise InvalidValue(f"{field} contains control characters")
    return value
