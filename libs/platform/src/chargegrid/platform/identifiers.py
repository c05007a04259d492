"""One rule per identifier, derived from the OCPP types, for every entry of the product.

The gateway's handshake, every service's gRPC validation and the CLI check ids with these
rules, so an id one of them accepts is accepted by all (a station the gateway registers can
be looked up, a token the API stores can be sent by a station). Lengths come from the
`ocpp` package's JSON schemas (CiStringN = N printable ASCII characters); where OCPP 1.6
and 2.x differ the longer one is taken, since one record serves stations of every version.

- station id: OCPP 2.0.1 identifierString, the characters ``a-zA-Z0-9*-_=:+|@.``, at most
  48 (the limit OCPP-J gives the identity in the URL; 1.6 sets none);
- id token: IdTokenType.idToken, CiString36 (1.6 idTag is CiString20), printable ASCII
  without spaces or control characters;
- transaction id: TransactionType.transactionId, identifierString of at most 36 (1.6 ids are
  integers, which pass);
- site, tariff, group and other record ids: identifierString of at most 36, the length OCPI
  2.2.1 gives location, tariff and group ids (CiString(36)), so they can be roamed;
- vendor (CiString50 in 2.0.1, 20 in 1.6), model (CiString20), serial number (CiString25)
  and firmware version (CiString50): printable ASCII.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class InvalidValue(ValueError):
    """A value breaks its rule; the message names the field and the rule, and is safe to show
    to the caller (the gRPC servers answer it with INVALID_ARGUMENT)."""


IDENTIFIER_STRING = "a-zA-Z0-9*-_=:+|@."
_IDENTIFIER_STRING = re.compile(r"[a-zA-Z0-9*\-_=:+|@.]+")
_PRINTABLE_NO_SPACE = re.compile(r"[!-~]+")
_PRINTABLE = re.compile(r"[ -~]+")


@dataclass(frozen=True)
class Rule:
    """What one kind of identifier may be: its characters and its longest length."""

    what: str
    max_length: int
    pattern: re.Pattern[str]
    characters: str

    def problem(self, value: str) -> str | None:
        """Why `value` breaks the rule, or None when it keeps it."""
        if not value:
            return "is required"
        if len(value) > self.max_length:
            return f"is longer than {self.max_length} characters"
        if not self.pattern.fullmatch(value):
            return f"must be {self.characters}"
        return None

    def check(self, value: str, field: str) -> str:
        """`value` if it keeps the rule; else InvalidValue naming `field`."""
        problem = self.problem(value)
        if problem is not None:
            raise InvalidValue(f"{field} {problem} ({self.what}: {self.description})")
        return value

    def check_optional(self, value: str, field: str) -> str:
        """Like `check`, with "" (not given) allowed."""
        return self.check(value, field) if value else value

    @property
    def description(self) -> str:
        return f"1-{self.max_length} characters, {self.characters}"


def _identifier_string(what: str, max_length: int) -> Rule:
    return Rule(what, max_length, _IDENTIFIER_STRING, f"only {IDENTIFIER_STRING}")


def _ci_string(what: str, max_length: int, *, spaces: bool = True) -> Rule:
    if spaces:
        return Rule(what, max_length, _PRINTABLE, "printable ASCII")
    return Rule(what, max_length, _PRINTABLE_NO_SPACE, "printable ASCII without spaces")


STATION_ID = _identifier_string("station id", 48)
ID_TOKEN = _ci_string("id token", 36, spaces=False)
TRANSACTION_ID = _identifier_string("transaction id", 36)
RECORD_ID = _identifier_string("record id", 36)
SITE_ID = _identifier_string("site id", 36)
VENDOR = _ci_string("vendor", 50)
MODEL = _ci_string("model", 20)
SERIAL_NUMBER = _ci_string("serial number", 25)
FIRMWARE_VERSION = _ci_string("firmware version", 50)

#: Largest connector / EVSE id accepted anywhere (OCPP types them as integers >= 0).
MAX_CONNECTOR_ID = 1_000


def connector_id(value: int, field: str, *, zero_allowed: bool = True) -> int:
    """A connector or EVSE id: 0 (the whole station, where allowed) up to MAX_CONNECTOR_ID."""
    low = 0 if zero_allowed else 1
    if not low <= value <= MAX_CONNECTOR_ID:
        raise InvalidValue(f"{field} must be between {low} and {MAX_CONNECTOR_ID}, got {value}")
    return value
