"""OCPP-J error codes, spelled as each version spells them, and the error the gateway raises.

1.6 says FormationViolation and (sic) OccurenceConstraintViolation, 2.x FormatViolation and
OccurrenceConstraintViolation; 2.x adds RpcFrameworkError and MessageTypeNotSupported, for
which 1.6 uses ProtocolError. Code inside the gateway names the generic `ErrorCode`; the wire
spelling is chosen once, here.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from chargegrid.gateway.protocol.versions import OcppVersion


class ErrorCode(Enum):
    NOT_IMPLEMENTED = "NotImplemented"
    NOT_SUPPORTED = "NotSupported"
    INTERNAL_ERROR = "InternalError"
    PROTOCOL_ERROR = "ProtocolError"
    SECURITY_ERROR = "SecurityError"
    FORMAT_VIOLATION = "FormatViolation"
    PROPERTY_CONSTRAINT_VIOLATION = "PropertyConstraintViolation"
    OCCURRENCE_CONSTRAINT_VIOLATION = "OccurrenceConstraintViolation"
    TYPE_CONSTRAINT_VIOLATION = "TypeConstraintViolation"
    GENERIC_ERROR = "GenericError"
    RPC_FRAMEWORK_ERROR = "RpcFrameworkError"
    MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"


_OCPP16_SPELLING = {
    ErrorCode.FORMAT_VIOLATION: "FormationViolation",
    ErrorCode.OCCURRENCE_CONSTRAINT_VIOLATION: "OccurenceConstraintViolation",
    ErrorCode.RPC_FRAMEWORK_ERROR: "ProtocolError",
    ErrorCode.MESSAGE_TYPE_NOT_SUPPORTED: "ProtocolError",
}


def wire_code(code: ErrorCode, version: OcppVersion) -> str:
    """The error code as `version` spells it on the wire."""
    if version is OcppVersion.V16:
        return _OCPP16_SPELLING.get(code, code.value)
    return code.value


_FROM_WIRE = {code.value: code for code in ErrorCode} | {
    spelling: code for code, spelling in _OCPP16_SPELLING.items() if spelling != "ProtocolError"
}


def from_wire(code: str) -> ErrorCode:
    """The generic code of an error a station sent (GenericError for unknown spellings)."""
    return _FROM_WIRE.get(code, ErrorCode.GENERIC_ERROR)


class OcppError(Exception):
    """Answer the CALL with a CALLERROR of this code (and do not acknowledge its content)."""

    def __init__(
        self, code: ErrorCode, description: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.details = details or {}
