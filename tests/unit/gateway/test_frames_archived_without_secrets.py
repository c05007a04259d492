"""The CSMS's calls that carry a credential are archived with it masked, the rest verbatim."""

import json

from chargegrid.gateway.redaction import MASK, redact_call


def _payload(raw: str) -> dict[str, object]:
    frame = json.loads(raw)
    assert isinstance(frame[3], dict)
    return frame[3]


def test_an_authorization_key_change_is_archived_without_the_password() -> None:
    raw = json.dumps(
        [2, "1", "ChangeConfiguration", {"key": "AuthorizationKey", "value": "s3cret-0123456789"}]
    )
    archived = redact_call("ChangeConfiguration", raw)
    assert "s3cret" not in archived
    assert _payload(archived) == {"key": "AuthorizationKey", "value": MASK}


def test_other_configuration_changes_are_archived_verbatim() -> None:
    raw = json.dumps([2, "1", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "300"}])
    assert redact_call("ChangeConfiguration", raw) == raw


def test_a_basic_auth_password_variable_is_masked_and_its_neighbours_kept() -> None:
    data = [
        {
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "BasicAuthPassword"},
            "attributeValue": "pw-0123456789abcdef",
        },
        {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
            "attributeValue": "60",
        },
    ]
    raw = json.dumps([2, "2", "SetVariables", {"setVariableData": data}])
    archived = _payload(redact_call("SetVariables", raw))
    assert "pw-0123" not in json.dumps(archived)
    values = [item["attributeValue"] for item in archived["setVariableData"]]  # type: ignore[attr-defined]
    assert values == [MASK, "60"]


def test_network_profile_vpn_and_apn_secrets_are_masked() -> None:
    connection = {
        "ocppVersion": "OCPP20",
        "ocppCsmsUrl": "wss://csms.example/ocpp",
        "vpn": {
            "server": "vpn.example",
            "user": "cp",
            "password": "vpn-secret",
            "key": "psk-secret",
            "type": "IPSec",
        },
        "apn": {
            "apn": "internet",
            "apnPassword": "apn-secret",
            "simPin": 1234,
            "apnAuthentication": "AUTO",
        },
    }
    raw = json.dumps(
        [2, "3", "SetNetworkProfile", {"configurationSlot": 1, "connectionData": connection}]
    )
    archived = redact_call("SetNetworkProfile", raw)
    for secret in ("vpn-secret", "psk-secret", "apn-secret", "1234"):
        assert secret not in archived
    assert _payload(archived)["connectionData"]["vpn"]["server"] == "vpn.example"  # type: ignore[index]


def test_unparseable_or_other_frames_are_left_alone() -> None:
    assert redact_call("ChangeConfiguration", "[2, broken") == "[2, broken"
    raw = json.dumps([2, "4", "Reset", {"type": "Hard"}])
    assert redact_call("Reset", raw) == raw
