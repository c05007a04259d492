"""Test data and the two checks every translation test makes: the CALL the translator builds
and the CALLRESULT it reads must both pass the official OCPP schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.gateway.commands.translation import Translator
from chargegrid.gateway.protocol.schemas import Direction, validate
from chargegrid.gateway.protocol.versions import OcppVersion

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
NOW_TEXT = "2026-03-01T12:00:00Z"


def stamp(text: str) -> Timestamp:
    result = Timestamp()
    result.FromJsonString(text)
    return result


def a_schedule(**overrides: Any) -> pb.ChargingSchedule:
    fields: dict[str, Any] = {
        "id": 1,
        "start_schedule": stamp("2026-03-01T13:00:00Z"),
        "duration_s": 3600,
        "rate_unit": "A",
        "periods": [
            pb.ChargingSchedulePeriod(start_period_s=0, limit=16.0, number_phases=3),
            pb.ChargingSchedulePeriod(start_period_s=1800, limit=10.0),
        ],
        "min_charging_rate": 6.0,
    }
    return pb.ChargingSchedule(**{**fields, **overrides})


def a_charging_profile(**overrides: Any) -> pb.ChargingProfile:
    fields: dict[str, Any] = {
        "id": 12,
        "stack_level": 2,
        "purpose": pb.CHARGING_PROFILE_PURPOSE_TX_DEFAULT,
        "kind": "Recurring",
        "recurrency": "Daily",
        "valid_from": stamp("2026-03-01T00:00:00Z"),
        "valid_to": stamp("2026-04-01T00:00:00Z"),
        "schedule": a_schedule(),
    }
    return pb.ChargingProfile(**{**fields, **overrides})


def a_token(token_id: str = "04E91C5A", token_type: str = "ISO14443") -> pb.IdToken:
    return pb.IdToken(id=token_id, type=token_type)


def sent(
    translator: Translator, version: OcppVersion, method: str, message: Message
) -> tuple[str, dict[str, Any]]:
    """The CALL for `message`, after the official schema has accepted it."""
    action, payload = translator.request(method, message)
    validate(version, action, Direction.REQUEST, payload)
    return action, payload


def answered(
    translator: Translator,
    version: OcppVersion,
    method: str,
    message: Message,
    payload: dict[str, Any],
) -> Any:
    """The typed reply to the station's CALLRESULT `payload`, itself checked by the schema."""
    action, _ = translator.request(method, message)
    validate(version, action, Direction.RESPONSE, payload)
    return translator.reply(method, message, payload)
