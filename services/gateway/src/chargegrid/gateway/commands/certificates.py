"""Certificate commands (A02/A03 CertificateSigned, M03-M05 install, list, delete) per version.

2.x and the 1.6 security whitepaper carry the same four messages; 1.6 knows only two root
kinds (CentralSystemRootCertificate, ManufacturerRootCertificate, the neutral names being the
2.x CSMSRootCertificate / ManufacturerRootCertificate), asks for one kind per
GetInstalledCertificateIds and has no certificateType on CertificateSigned.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from google.protobuf.message import Message

from chargegrid.api.gateway.v1 import station_control_pb2 as pb
from chargegrid.gateway.commands.translation import InvalidCommand, Unsupported

Call = tuple[str, dict[str, Any]]
SIGNING_TYPES = frozenset({"ChargingStationCertificate", "V2GCertificate"})
INSTALL_TYPES_2X = frozenset(
    {
        "V2GRootCertificate",
        "MORootCertificate",
        "CSMSRootCertificate",
        "ManufacturerRootCertificate",
    }
)
LIST_TYPES_2X = INSTALL_TYPES_2X | {"V2GCertificateChain"}
TYPES_16 = {
    "CSMSRootCertificate": "CentralSystemRootCertificate",
    "ManufacturerRootCertificate": "ManufacturerRootCertificate",
}
NEUTRAL_16 = {value: key for key, value in TYPES_16.items()}
HASH_ALGORITHMS = frozenset({"SHA256", "SHA384", "SHA512"})


def _hash_data(m: pb.CertificateHashData) -> dict[str, str]:
    if m.hash_algorithm not in HASH_ALGORITHMS:
        raise InvalidCommand(f"hash_algorithm is one of {', '.join(sorted(HASH_ALGORITHMS))}")
    if not (m.issuer_name_hash and m.issuer_key_hash and m.serial_number):
        raise InvalidCommand("issuer_name_hash, issuer_key_hash and serial_number are required")
    return {
        "hashAlgorithm": m.hash_algorithm,
        "issuerNameHash": m.issuer_name_hash,
        "issuerKeyHash": m.issuer_key_hash,
        "serialNumber": m.serial_number,
    }


def _hash_message(data: dict[str, Any]) -> pb.CertificateHashData:
    return pb.CertificateHashData(
        hash_algorithm=data["hashAlgorithm"],
        issuer_name_hash=data["issuerNameHash"],
        issuer_key_hash=data["issuerKeyHash"],
        serial_number=data["serialNumber"],
    )


def _pem(text: str, what: str) -> str:
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise InvalidCommand(f"{what} must be PEM (-----BEGIN CERTIFICATE-----)")
    return text


def status_reply(_m: Message, payload: dict[str, Any]) -> pb.CommandReply:
    reason = payload.get("statusInfo", {}).get("reasonCode", "")
    return pb.CommandReply(
        status=payload["status"], status_reason=reason, payload_json=orjson.dumps(payload).decode()
    )


# -- 2.0.1 / 2.1 -----------------------------------------------------------------------------


def certificate_signed_2x(m: pb.CertificateSignedRequest, _: Any) -> Call:
    payload: dict[str, Any] = {"certificateChain": _pem(m.certificate_chain, "the chain")}
    if m.certificate_type:
        if m.certificate_type not in SIGNING_TYPES:
            raise InvalidCommand(f"certificate_type is one of {', '.join(sorted(SIGNING_TYPES))}")
        payload["certificateType"] = m.certificate_type
    return "CertificateSigned", payload


def install_certificate_2x(m: pb.InstallCertificateRequest, _: Any) -> Call:
    if m.certificate_type not in INSTALL_TYPES_2X:
        raise InvalidCommand(f"certificate_type is one of {', '.join(sorted(INSTALL_TYPES_2X))}")
    return "InstallCertificate", {
        "certificateType": m.certificate_type,
        "certificate": _pem(m.certificate_pem, "the certificate"),
    }


def delete_certificate(m: pb.DeleteCertificateRequest, _: Any) -> Call:
    return "DeleteCertificate", {"certificateHashData": _hash_data(m.certificate)}


def get_installed_2x(m: pb.GetInstalledCertificateIdsRequest, _: Any) -> Call:
    unknown = set(m.certificate_types) - LIST_TYPES_2X
    if unknown:
        raise InvalidCommand(f"unknown certificate types {sorted(unknown)}")
    types = list(m.certificate_types)
    return "GetInstalledCertificateIds", {"certificateType": types} if types else {}


def installed_reply_2x(_m: Message, payload: dict[str, Any]) -> pb.GetInstalledCertificateIdsReply:
    return pb.GetInstalledCertificateIdsReply(
        status=payload["status"],
        certificates=[
            pb.InstalledCertificate(
                certificate_type=entry["certificateType"],
                certificate=_hash_message(entry["certificateHashData"]),
                child_certificates=[
                    _hash_message(child) for child in entry.get("childCertificateHashData", [])
                ],
            )
            for entry in payload.get("certificateHashDataChain", [])
        ],
    )


def set_network_profile_2x(m: pb.SetNetworkProfileRequest, env: Any) -> Call:
    if not 1 <= m.security_profile <= 3:
        raise InvalidCommand("security_profile is 1, 2 or 3")
    if not m.csms_url.startswith(("ws://", "wss://")):
        raise InvalidCommand("csms_url is a ws:// or wss:// URL")
    if m.security_profile >= 2 and not m.csms_url.startswith("wss://"):
        raise InvalidCommand("security profiles 2 and 3 need a wss:// URL")
    version = "OCPP21" if str(getattr(env, "version", "")) == "2.1" else "OCPP20"
    return "SetNetworkProfile", {
        "configurationSlot": m.configuration_slot or 1,
        "connectionData": {
            "ocppVersion": version,
            "ocppTransport": "JSON",
            "ocppCsmsUrl": m.csms_url,
            "messageTimeout": m.message_timeout_s or 30,
            "securityProfile": m.security_profile,
            "ocppInterface": m.ocpp_interface or "Wired0",
        },
    }


# -- 1.6 security whitepaper -----------------------------------------------------------------


def certificate_signed_16(m: pb.CertificateSignedRequest, _: Any) -> Call:
    if m.certificate_type == "V2GCertificate":
        raise Unsupported("OCPP 1.6 stations have no V2G certificate")
    return "CertificateSigned", {"certificateChain": _pem(m.certificate_chain, "the chain")}


def _type_16(neutral: str) -> str:
    if neutral not in TYPES_16:
        raise Unsupported(
            f"OCPP 1.6 knows the root kinds {', '.join(sorted(TYPES_16))}, not {neutral!r}"
        )
    return TYPES_16[neutral]


def install_certificate_16(m: pb.InstallCertificateRequest, _: Any) -> Call:
    return "InstallCertificate", {
        "certificateType": _type_16(m.certificate_type),
        "certificate": _pem(m.certificate_pem, "the certificate"),
    }


def get_installed_16(m: pb.GetInstalledCertificateIdsRequest, _: Any) -> Call:
    if len(m.certificate_types) != 1:
        raise InvalidCommand("OCPP 1.6 lists one certificate type at a time")
    return "GetInstalledCertificateIds", {"certificateType": _type_16(m.certificate_types[0])}


def installed_reply_16(m: Message, payload: dict[str, Any]) -> pb.GetInstalledCertificateIdsReply:
    assert isinstance(m, pb.GetInstalledCertificateIdsRequest)
    kind = m.certificate_types[0] if m.certificate_types else ""
    return pb.GetInstalledCertificateIdsReply(
        status=payload["status"],
        certificates=[
            pb.InstalledCertificate(certificate_type=kind, certificate=_hash_message(data))
            for data in payload.get("certificateHashData", [])
        ],
    )


Requests = dict[str, Callable[[Any, Any], Call]]
Replies = dict[str, Callable[[Any, dict[str, Any]], Message]]
REQUESTS_2X: Requests = {
    "CertificateSigned": certificate_signed_2x,
    "InstallCertificate": install_certificate_2x,
    "DeleteCertificate": delete_certificate,
    "GetInstalledCertificateIds": get_installed_2x,
    "SetNetworkProfile": set_network_profile_2x,
}
REPLIES_2X: Replies = {
    **dict.fromkeys(REQUESTS_2X, status_reply),
    "GetInstalledCertificateIds": installed_reply_2x,
}
REQUESTS_16: Requests = {
    "CertificateSigned": certificate_signed_16,
    "InstallCertificate": install_certificate_16,
    "DeleteCertificate": delete_certificate,
    "GetInstalledCertificateIds": get_installed_16,
}
REPLIES_16: Replies = {
    **dict.fromkeys(REQUESTS_16, status_reply),
    "GetInstalledCertificateIds": installed_reply_16,
}
