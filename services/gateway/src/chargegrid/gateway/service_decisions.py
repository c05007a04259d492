"""Decisions asked of the owning services over gRPC, with the documented fallback behind them.

Boot goes to the stations service (`RegisterBoot`), id tokens to the authorization service
(`Authorize`). A service that is not configured, unreachable, too slow (`decision_timeout_s`)
or answering with an error leaves the answer to `FallbackDecisions`, which logs and counts it;
every answer the authorization service gives is remembered so the fallback can reuse it.
1.6 transaction ids come from the session service (`AllocateTransactionId`, unique across the
network); the fallback's local ids are unique per pod only.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

import grpc

from chargegrid.api.authorization.v1 import authorization_pb2 as authz_pb
from chargegrid.api.authorization.v1 import authorization_pb2_grpc as authz_grpc
from chargegrid.api.billing.v1 import billing_pb2 as billing_pb
from chargegrid.api.billing.v1 import billing_pb2_grpc as billing_grpc
from chargegrid.api.session.v1 import session_pb2 as session_pb
from chargegrid.api.session.v1 import session_pb2_grpc as session_grpc
from chargegrid.api.stations.v1 import stations_pb2 as stations_pb
from chargegrid.api.stations.v1 import stations_pb2_grpc as stations_grpc
from chargegrid.gateway.decisions import (
    AuthDecision,
    AuthRequest,
    BootDecision,
    BootRequest,
    CertificateAnswer,
    CertificateDecision,
    FallbackDecisions,
    StartAttempt,
)
from chargegrid.gateway.ocpp16.core import ID_TAG
from chargegrid.platform.logging import get_logger

log = get_logger(__name__)

#: Authorization service statuses in OCPP 2.x spelling (1.6 routes narrow them further).
AUTH_STATUS = {
    authz_pb.AUTHORIZATION_STATUS_ACCEPTED: "Accepted",
    authz_pb.AUTHORIZATION_STATUS_BLOCKED: "Blocked",
    authz_pb.AUTHORIZATION_STATUS_EXPIRED: "Expired",
    authz_pb.AUTHORIZATION_STATUS_INVALID: "Invalid",
    authz_pb.AUTHORIZATION_STATUS_CONCURRENT_TX: "ConcurrentTx",
    authz_pb.AUTHORIZATION_STATUS_NOT_AT_THIS_LOCATION: "NotAtThisLocation",
    authz_pb.AUTHORIZATION_STATUS_UNKNOWN: "Unknown",
}
BOOT_STATUSES = frozenset({"Accepted", "Pending", "Rejected"})


def _token_type(gateway_type: str) -> str:
    """1.6 idTags carry no type: the authorization service matches them by id alone."""
    return "" if gateway_type == ID_TAG else gateway_type


class ServiceDecisions:
    """Asks stations and authorization; falls back per `FallbackDecisions`."""

    def __init__(
        self,
        fallback: FallbackDecisions,
        stations: grpc.aio.Channel | None,
        authorization: grpc.aio.Channel | None,
        timeout_s: float,
        session: grpc.aio.Channel | None = None,
        billing: grpc.aio.Channel | None = None,
    ) -> None:
        self.fallback = fallback
        self.timeout_s = timeout_s
        self._stations = stations_grpc.StationsStub(stations) if stations else None
        self._authorization = authz_grpc.AuthorizationStub(authorization) if authorization else None
        self._sessions = session_grpc.SessionsStub(session) if session else None
        self._billing = billing_grpc.BillingStub(billing) if billing else None

    async def boot(self, request: BootRequest) -> BootDecision:
        if self._stations is None:
            return await self.fallback.boot(request)
        try:
            reply = await self._stations.RegisterBoot(
                stations_pb.RegisterBootRequest(
                    station_id=request.station_id,
                    vendor=request.vendor,
                    model=request.model,
                    serial_number=request.serial_number,
                    firmware_version=request.firmware_version,
                    reason=request.reason,
                    ocpp_version=request.ocpp_version,  # type: ignore[arg-type]
                    security_profile=request.security_profile,
                ),
                timeout=self.timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            log.warning("stations service did not answer", error=exc.code().name)
            return await self.fallback.boot(request)
        if reply.status not in BOOT_STATUSES:
            log.error("stations service gave an unknown boot status", status=reply.status)
            return await self.fallback.boot(request)
        return BootDecision(reply.status, reply.interval_s)

    async def authorize(self, request: AuthRequest) -> AuthDecision:
        if self._authorization is None:
            return await self.fallback.authorize(request)
        try:
            reply = await self._authorization.Authorize(
                authz_pb.AuthorizeRequest(
                    station_id=request.station_id,
                    id_token=request.id_token,
                    token_type=_token_type(request.token_type),
                    transaction_id=request.transaction_id,
                    evse_id=request.evse_id,
                    purpose=request.purpose,
                ),
                timeout=self.timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            log.warning("authorization service did not answer", error=exc.code().name)
            return await self.fallback.authorize(request)
        decision = AuthDecision(
            AUTH_STATUS.get(reply.status, "Invalid"),
            reply.expires_at.ToDatetime(tzinfo=UTC) if reply.HasField("expires_at") else None,
            reply.group_id or None,
            reply.source,
            reply.personal_message,
            reply.language,
            (
                reply.cache_expires_at.ToDatetime(tzinfo=UTC)
                if reply.HasField("cache_expires_at")
                else None
            ),
        )
        self.fallback.cache.remember(request.id_token, request.token_type, decision)
        return decision

    async def total_cost(self, station_id: str, transaction_id: str) -> Decimal | None:
        if self._billing is None:
            return None
        try:
            estimate = await self._billing.EstimateCost(
                billing_pb.EstimateCostRequest(
                    station_id=station_id, transaction_id=transaction_id
                ),
                timeout=self.timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            # NOT_FOUND: billing has not seen the session yet (it is a few events behind).
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                log.warning("billing service did not estimate", error=exc.code().name)
            return None
        try:
            return Decimal(estimate.total_incl_vat)
        except ArithmeticError:
            log.error("billing service gave a malformed cost", cost=estimate.total_incl_vat)
            return None

    async def sign_certificate(
        self, station_id: str, csr: str, certificate_type: str
    ) -> CertificateDecision:
        if self._stations is None:
            return await self.fallback.sign_certificate(station_id, csr, certificate_type)
        try:
            reply = await self._stations.SignCertificate(
                stations_pb.SignCertificateRequest(
                    station_id=station_id, csr_pem=csr, certificate_type=certificate_type
                ),
                timeout=self.timeout_s,
            )
        except grpc.aio.AioRpcError as exc:
            log.warning("stations service did not answer a CSR", error=exc.code().name)
            return await self.fallback.sign_certificate(station_id, csr, certificate_type)
        if reply.status not in ("Accepted", "Rejected"):
            log.error("stations service gave an unknown CSR status", status=reply.status)
            return await self.fallback.sign_certificate(station_id, csr, certificate_type)
        return CertificateDecision(reply.status, reply.reason, reply.detail)

    async def ev_certificate(
        self, station_id: str, schema_version: str, action: str, exi_request: str
    ) -> CertificateAnswer:
        if self._stations is None:
            return await self.fallback.ev_certificate(
                station_id, schema_version, action, exi_request
            )
        try:
            reply = await self._stations.Get15118EVCertificate(
                stations_pb.Get15118EVCertificateRequest(
                    station_id=station_id,
                    iso15118_schema_version=schema_version,
                    action=action,
                    exi_request=exi_request,
                ),
                # The provider's own timeout bounds it; the decision timeout would cut it short.
                timeout=max(self.timeout_s, 15.0),
            )
        except grpc.aio.AioRpcError as exc:
            log.warning("stations service did not forward an EV certificate", error=exc.code().name)
            return await self.fallback.ev_certificate(
                station_id, schema_version, action, exi_request
            )
        return CertificateAnswer(reply.status, reply.exi_response, reply.reason, reply.detail)

    async def certificate_status(
        self, station_id: str, ocsp_request: dict[str, str]
    ) -> CertificateAnswer:
        if self._stations is None:
            return await self.fallback.certificate_status(station_id, ocsp_request)
        try:
            reply = await self._stations.GetCertificateStatus(
                stations_pb.GetCertificateStatusRequest(
                    station_id=station_id,
                    hash_algorithm=ocsp_request["hashAlgorithm"],
                    issuer_name_hash=ocsp_request["issuerNameHash"],
                    issuer_key_hash=ocsp_request["issuerKeyHash"],
                    serial_number=ocsp_request["serialNumber"],
                    responder_url=ocsp_request["responderURL"],
                ),
                timeout=max(self.timeout_s, 10.0),
            )
        except grpc.aio.AioRpcError as exc:
            log.warning("stations service did not answer an OCSP status", error=exc.code().name)
            return await self.fallback.certificate_status(station_id, ocsp_request)
        return CertificateAnswer(reply.status, reply.ocsp_result, reply.reason, reply.detail)

    async def transaction_id(
        self, station_id: str, connector_id: int = 0, attempt: StartAttempt | None = None
    ) -> int:
        if self._sessions is None:
            return await self.fallback.transaction_id(station_id, connector_id, attempt)
        request = session_pb.AllocateTransactionIdRequest(
            station_id=station_id, connector_id=connector_id
        )
        if attempt is not None:
            request.id_tag = attempt.id_tag
            request.started_at.FromDatetime(attempt.timestamp)
            request.meter_start_wh = attempt.meter_start_wh
        try:
            reply = await self._sessions.AllocateTransactionId(request, timeout=self.timeout_s)
        except grpc.aio.AioRpcError as exc:
            log.warning("session service did not allocate an id", error=exc.code().name)
            return await self.fallback.transaction_id(station_id, connector_id, attempt)
        if reply.transaction_id <= 0:
            log.error("session service allocated an invalid id", id=reply.transaction_id)
            return await self.fallback.transaction_id(station_id, connector_id, attempt)
        return int(reply.transaction_id)
