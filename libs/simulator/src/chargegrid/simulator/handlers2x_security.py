"""OCPP 2.x security calls from the CSMS: the station's certificates and trust store (A02,
A03, M03-M05). What the store decides is answered; see `certificates`."""

from __future__ import annotations

from typing import Any

from chargegrid.simulator.certificates import HashData
from chargegrid.simulator.messages2x import Outbound2x
from chargegrid.simulator.routing import on

SIGNING_KINDS = ("ChargingStationCertificate", "V2GCertificate")


def hash_from_wire(data: dict[str, Any]) -> HashData:
    """CertificateHashData as the CSMS sent it (hex case and leading zeros vary)."""
    return HashData(
        data["hash_algorithm"],
        data["issuer_name_hash"].lower(),
        data["issuer_key_hash"].lower(),
        data["serial_number"].lower().lstrip("0") or "0",
    )


class Security2x(Outbound2x):
    @on("CertificateSigned")
    def on_certificate_signed(
        self, certificate_chain: str, certificate_type: str | None = None, **_: Any
    ) -> Any:
        store = self.station.certificates
        refusal = store.adopt(certificate_chain, certificate_type or SIGNING_KINDS[0])
        if refusal is not None:
            self.station.note(f"certificate refused: {refusal}")
            self.after_reply(
                lambda: self.station.spawn(
                    self.station.security_event("InvalidChargingStationCertificate", refusal)
                )
            )
            return self._call_result.CertificateSigned(
                status="Rejected",
                status_info={"reason_code": "InvalidCertificate", "additional_info": refusal},
            )
        self.station.note("certificate adopted")
        return self._call_result.CertificateSigned(status="Accepted")

    @on("InstallCertificate")
    def on_install_certificate(self, certificate_type: str, certificate: str, **_: Any) -> Any:
        status = self.station.certificates.install(certificate_type, certificate)
        return self._call_result.InstallCertificate(status=status)

    @on("GetInstalledCertificateIds")
    def on_get_installed(self, certificate_type: list[str] | None = None, **_: Any) -> Any:
        found = self.station.certificates.installed(certificate_type)
        if not found:
            return self._call_result.GetInstalledCertificateIds(status="NotFound")
        chain = [
            {"certificate_type": kind, "certificate_hash_data": data.wire()} for kind, data in found
        ]
        return self._call_result.GetInstalledCertificateIds(
            status="Accepted", certificate_hash_data_chain=chain
        )

    @on("DeleteCertificate")
    def on_delete_certificate(self, certificate_hash_data: dict[str, Any], **_: Any) -> Any:
        status = self.station.certificates.delete(hash_from_wire(certificate_hash_data))
        return self._call_result.DeleteCertificate(status=status)

    @on("SetNetworkProfile")
    def on_set_network_profile(
        self, configuration_slot: int, connection_data: dict[str, Any], **_: Any
    ) -> Any:
        has_certificate = "ChargingStationCertificate" in self.station.certificates.chains
        status = self.station.network.store(configuration_slot, connection_data, has_certificate)
        return self._call_result.SetNetworkProfile(status=status)

    async def sign_certificate(self, csr: str, kind: str | None) -> str:
        result = await self.request(self._call.SignCertificate(csr=csr, certificate_type=kind))
        return str(result.status)
