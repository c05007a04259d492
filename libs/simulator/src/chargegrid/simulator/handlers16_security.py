"""OCPP 1.6 security whitepaper calls from the Central System: the station's certificate
and trust store, in 1.6 words (CentralSystemRootCertificate, one kind per listing)."""

from __future__ import annotations

from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from chargegrid.simulator.handlers2x_security import hash_from_wire
from chargegrid.simulator.messages16 import Outbound16
from chargegrid.simulator.routing import on

#: 1.6 root kinds -> the store's (2.x) names.
KINDS = {
    "CentralSystemRootCertificate": "CSMSRootCertificate",
    "ManufacturerRootCertificate": "ManufacturerRootCertificate",
}


class Security16(Outbound16):
    @on(Action.certificate_signed)
    def on_certificate_signed(self, certificate_chain: str, **_: Any) -> Any:
        refusal = self.station.certificates.adopt(certificate_chain)
        if refusal is not None:
            self.station.note(f"certificate refused: {refusal}")
            return call_result.CertificateSigned(status="Rejected")
        self.station.note("certificate adopted")
        return call_result.CertificateSigned(status="Accepted")

    @on(Action.install_certificate)
    def on_install_certificate(self, certificate_type: str, certificate: str, **_: Any) -> Any:
        status = self.station.certificates.install(KINDS[certificate_type], certificate)
        return call_result.InstallCertificate(status=status)

    @on(Action.get_installed_certificate_ids)
    def on_get_installed(self, certificate_type: str, **_: Any) -> Any:
        found = self.station.certificates.installed([KINDS[certificate_type]])
        if not found:
            return call_result.GetInstalledCertificateIds(status="NotFound")
        return call_result.GetInstalledCertificateIds(
            status="Accepted", certificate_hash_data=[data.wire() for _, data in found]
        )

    @on(Action.delete_certificate)
    def on_delete_certificate(self, certificate_hash_data: dict[str, Any], **_: Any) -> Any:
        status = self.station.certificates.delete(hash_from_wire(certificate_hash_data))
        return call_result.DeleteCertificate(status=status)
