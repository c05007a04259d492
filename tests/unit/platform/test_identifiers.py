"""The identifier rules and the free-text limits, as the OCPP schemas define them."""

from __future__ import annotations

import json
from pathlib import Path

import ocpp
import pytest

from chargegrid.platform import identifiers as ids
from chargegrid.platform import text_limits as limits
from chargegrid.platform.identifiers import InvalidValue

SCHEMAS = Path(ocpp.__file__).parent


def schema_max_length(version: str, action: str, *path: str) -> int:
    node = json.loads((SCHEMAS / version / "schemas" / f"{action}.json").read_text())
    for key in path:
        node = node["definitions"][key] if key[0].isupper() else node["properties"][key]
    return int(node["maxLength"])


def test_the_lengths_are_the_ones_the_ocpp_schemas_give() -> None:
    assert ids.ID_TOKEN.max_length == schema_max_length(
        "v201", "AuthorizeRequest", "IdTokenType", "idToken"
    )
    assert schema_max_length("v16", "Authorize", "idTag") <= ids.ID_TOKEN.max_length
    assert ids.TRANSACTION_ID.max_length == schema_max_length(
        "v201", "TransactionEventRequest", "TransactionType", "transactionId"
    )
    boot = ("v201", "BootNotificationRequest", "ChargingStationType")
    assert ids.VENDOR.max_length == schema_max_length(*boot, "vendorName")
    assert ids.MODEL.max_length == schema_max_length(*boot, "model")
    assert ids.SERIAL_NUMBER.max_length == schema_max_length(*boot, "serialNumber")
    assert ids.FIRMWARE_VERSION.max_length == schema_max_length(*boot, "firmwareVersion")
    firmware = ("v201", "UpdateFirmwareRequest", "FirmwareType")
    assert schema_max_length(*firmware, "location") == limits.URL
    assert schema_max_length(*firmware, "signingCertificate") == limits.CERTIFICATE
    assert schema_max_length(*firmware, "signature") == limits.SIGNATURE


@pytest.mark.parametrize(
    "station_id", ["CP1", "a", "Az09*-_=:+|@.", "S" * 48, "DE*ABC*E123", "cp:1=2|3@site.x"]
)
def test_identifier_strings_up_to_48_are_station_ids(station_id: str) -> None:
    assert ids.STATION_ID.check(station_id, "station_id") == station_id


@pytest.mark.parametrize(
    ("station_id", "problem"),
    [
        ("", "is required"),
        ("S" * 49, "is longer than 48 characters"),
        ("a/b", "must be only a-zA-Z0-9*-_=:+|@."),
        ("CPé", "must be only"),
        ("CP 1", "must be only"),
        ("CP\x00", "must be only"),
        ("CP%2F1", "must be only"),
        ("CP\n", "must be only"),
    ],
)
def test_anything_else_is_not_a_station_id(station_id: str, problem: str) -> None:
    assert problem in (ids.STATION_ID.problem(station_id) or "")
    with pytest.raises(InvalidValue, match=r"^station\.id "):
        ids.STATION_ID.check(station_id, "station.id")


@pytest.mark.parametrize("id_token", ["\x00", "A\tB", "A\nB", "A B", "é", "A\x7f", "T" * 37])
def test_an_id_token_is_printable_ascii_without_spaces_up_to_36(id_token: str) -> None:
    assert ids.ID_TOKEN.problem(id_token) is not None


def test_every_printable_ascii_character_but_space_can_be_in_an_id_token() -> None:
    every = "".join(chr(c) for c in range(0x21, 0x7F))
    for start in range(0, len(every), 36):
        chunk = every[start : start + 36]
        assert ids.ID_TOKEN.check(chunk, "id_token") == chunk


def test_the_message_names_the_field_and_the_rule() -> None:
    with pytest.raises(InvalidValue) as refused:
        ids.ID_TOKEN.check("X" * 40, "tokens[3].id_token")
    assert str(refused.value) == (
        "tokens[3].id_token is longer than 36 characters "
        "(id token: 1-36 characters, printable ASCII without spaces)"
    )


def test_optional_ids_may_be_empty_but_not_bad() -> None:
    assert ids.SITE_ID.check_optional("", "site_id") == ""
    with pytest.raises(InvalidValue):
        ids.SITE_ID.check_optional("s" * 37, "site_id")


def test_connector_ids_are_bounded() -> None:
    assert ids.connector_id(0, "connector_id") == 0
    with pytest.raises(InvalidValue, match="between 1 and 1000"):
        ids.connector_id(0, "evse_id", zero_allowed=False)
    with pytest.raises(InvalidValue, match="got -1"):
        ids.connector_id(-1, "connector_id")


def test_free_text_is_bounded_and_free_of_control_characters() -> None:
    assert limits.bounded("Depot Nord\n2nd floor\tB", "site.address", 45)
    with pytest.raises(
        InvalidValue, match=r"site.name is longer than 255 characters \(256 given\)"
    ):
        limits.bounded("x" * 256, "site.name", limits.NAME)
    with pytest.raises(InvalidValue, match=r"site\.name contains control characters"):
        limits.bounded("Depot\x00", "site.name", limits.NAME)


def test_the_limit_table_names_every_limit() -> None:
    assert limits.LIMITS["name"] == 255
    assert limits.LIMITS["description"] == 1000
    assert all(limit > 0 for limit in limits.LIMITS.values())
