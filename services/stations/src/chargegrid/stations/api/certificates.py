"""The CSMS CA over gRPC: SignCertificate (from the gateway), issued certificates, the CA."""

from __future__ import annotations

from datetime import timedelta

from chargegrid.api.stations.v1 import stations_pb2 as pb
from chargegrid.platform.bus.envelope import set_timestamp
from chargegrid.platform.grpc import FailedPrecondition, InvalidArgument
from chargegrid.stations.api import validation as check
from chargegrid.stations.api.base import ApiBase, Context
from chargegrid.stations.certificates.contracts import ContractFailed, ContractRequest
from chargegrid.stations.certificates.issuing import CertificateIssuer
from chargegrid.stations.certificates.ocsp import CertificateId, OcspFailed
from chargegrid.stations.certificates.store import list_issued
from chargegrid.stations.models import IssuedCertificateRow

#: A century: any certificate a station holds expires within it.
MAX_EXPIRY_WINDOW_DAYS = 36_500


def _issued(row: IssuedCertificateRow) -> pb.IssuedCertificate:
    message = pb.IssuedCertificate(
        serial=row.serial,
        station_id=row.station_id,
        certificate_type=row.certificate_type,
        delivery=row.delivery,
        renewal_requested=row.renewal_requested_at is not None,
        superseded=row.superseded,
        certificate_pem=row.certificate_pem,
    )
    set_timestamp(message.not_before, row.not_before)
    set_timestamp(message.not_after, row.not_after)
    set_timestamp(message.issued_at, row.issued_at)
    return message


class CertificatesApi(ApiBase):
    def _issuer(self) -> CertificateIssuer:
        if self.deps.certificates is None:
            raise FailedPrecondition("no certificate authority is configured")
        return self.deps.certificates

    async def SignCertificate(
        self, request: pb.SignCertificateRequest, context: Context
    ) -> pb.SignCertificateReply:
        station_id = check.station_id(request.station_id, "station_id")
        decision = await self._issuer().sign(station_id, request.csr_pem, request.certificate_type)
        return pb.SignCertificateReply(
            status=decision.status,
            reason=decision.reason,
            detail=decision.detail,
            serial=decision.serial,
        )

    async def ListIssuedCertificates(
        self, request: pb.ListIssuedCertificatesRequest, context: Context
    ) -> pb.ListIssuedCertificatesReply:
        station_id = (
            check.station_id(request.station_id, "station_id") if request.station_id else ""
        )
        if not 0 <= request.expiring_within_days <= MAX_EXPIRY_WINDOW_DAYS:
            # 2**31 - 1 days overflowed the datetime sum into INTERNAL (found by tests/fuzz).
            raise InvalidArgument(
                f"expiring_within_days must lie between 0 and {MAX_EXPIRY_WINDOW_DAYS}"
            )
        before = (
            self.deps.clock() + timedelta(days=request.expiring_within_days)
            if request.expiring_within_days
            else None
        )
        async with self.deps.sessions() as session:
            rows = await list_issued(session, station_id, before)
        return pb.ListIssuedCertificatesReply(certificates=[_issued(row) for row in rows])

    async def GetCertificateAuthority(
        self, request: pb.GetCertificateAuthorityRequest, context: Context
    ) -> pb.CertificateAuthority:
        issuer = self._issuer()
        certificate = issuer.authority.certificate
        reply = pb.CertificateAuthority(
            certificate_pem=issuer.authority.certificate_pem,
            subject=certificate.subject.rfc4514_string(),
            v2g=issuer.v2g_authority is not None,
        )
        set_timestamp(reply.not_after, certificate.not_valid_after_utc)
        return reply

    async def Get15118EVCertificate(
        self, request: pb.Get15118EVCertificateRequest, context: Context
    ) -> pb.Get15118EVCertificateReply:
        station_id = check.station_id(request.station_id, "station_id")
        if self.deps.contracts is None:
            return pb.Get15118EVCertificateReply(
                status="Failed", reason="NoProvider", detail="no contract-certificate provider"
            )
        try:
            exi = await self.deps.contracts.forward(
                ContractRequest(
                    station_id,
                    request.iso15118_schema_version,
                    request.action,
                    request.exi_request,
                )
            )
        except ContractFailed as exc:
            return pb.Get15118EVCertificateReply(
                status="Failed", reason=exc.reason, detail=exc.detail
            )
        return pb.Get15118EVCertificateReply(status="Accepted", exi_response=exi)

    async def GetCertificateStatus(
        self, request: pb.GetCertificateStatusRequest, context: Context
    ) -> pb.GetCertificateStatusReply:
        check.station_id(request.station_id, "station_id")
        if self.deps.ocsp is None:
            return pb.GetCertificateStatusReply(
                status="Failed", reason="NoOCSP", detail="OCSP forwarding is off"
            )
        cert_id = CertificateId(
            request.hash_algorithm,
            request.issuer_name_hash,
            request.issuer_key_hash,
            request.serial_number,
            request.responder_url,
        )
        try:
            result = await self.deps.ocsp.status(cert_id)
        except OcspFailed as exc:
            return pb.GetCertificateStatusReply(
                status="Failed", reason=exc.reason, detail=exc.detail
            )
        return pb.GetCertificateStatusReply(status="Accepted", ocsp_result=result)
