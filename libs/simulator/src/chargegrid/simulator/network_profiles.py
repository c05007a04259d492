"""A station's network connection profiles (2.x SetNetworkProfile, A05) and switching to the
first one of NetworkConfigurationPriority at the next connection (after the CSMS's Reset).

Profile 3 connects over wss with the station's own certificate (from CertificateSigned)
and trusts the installed CSMSRootCertificates; profile 2 with those roots and the password.
"""

from __future__ import annotations

import os
import ssl
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization

if TYPE_CHECKING:
    from chargegrid.simulator.station import Station


@dataclass(frozen=True)
class NetworkProfile:
    url: str
    security_profile: int


class NetworkProfiles:
    def __init__(self) -> None:
        self.slots: dict[int, NetworkProfile] = {}
        self.priority: list[int] = []
        self.active_slot: int | None = None

    def store(self, slot: int, connection_data: dict[str, Any], has_certificate: bool) -> str:
        """Accepted, or Rejected for a profile the station cannot use (no certificate yet)."""
        profile = int(connection_data["security_profile"])
        if profile == 3 and not has_certificate:
            return "Rejected"
        self.slots[slot] = NetworkProfile(str(connection_data["ocpp_csms_url"]), profile)
        return "Accepted"

    def set_priority(self, value: str) -> None:
        self.priority = [int(part) for part in value.split(",") if part.strip().isdigit()]

    def next_profile(self) -> tuple[int, NetworkProfile] | None:
        """The highest-priority slot that holds a profile, unless it is already in use."""
        for slot in self.priority:
            if slot in self.slots:
                return None if slot == self.active_slot else (slot, self.slots[slot])
        return None


def ssl_context_for(station: Station, profile: NetworkProfile) -> ssl.SSLContext:
    """TLS trusting the station's installed CSMS roots, with its certificate for profile 3."""
    roots = station.certificates.roots.get("CSMSRootCertificate", [])
    pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in roots)
    context = ssl.create_default_context(cadata=pem or None)
    if profile.security_profile == 3:
        # load_cert_chain reads files only: a private temporary pair, removed at once.
        with tempfile.TemporaryDirectory() as directory:
            chain, key = os.path.join(directory, "chain.pem"), os.path.join(directory, "key.pem")
            with open(chain, "wb") as out:
                out.write(station.certificates.chain_pem())
            descriptor = os.open(key, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(descriptor, "wb") as out:
                out.write(station.certificates.key_pem())
            context.load_cert_chain(chain, key)
    return context
