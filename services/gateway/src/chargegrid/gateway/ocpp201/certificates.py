"""2.x certificate requests of a station, answered by the stations service.

SignCertificate: its CA decides, the chain follows as CertificateSigned. Get15118EVCertificate
(M01/M02): forwarded to the contract-certificate provider. GetCertificateStatus (M06): OCSP
forwarded to the responder. Each request is also kept whole as a notification (audit). An
answer the service could not give is a Rejected / Failed with NoCertificateService (never an
Accepted nobody will honour).
"""

from __future__ import annotations

from typing import Any

from chargegrid.gateway.events import notification
from chargegrid.gateway.routing import CallContext, Outcome


def _status_info(reason: str, detail: str) -> dict[str, str]:
    return {"reasonCode": reason[:20], "additionalInfo": detail[:512]}


async def sign_certificate(context: CallContext, payload: dict[str, Any]) -> Outcome:
    decision = await context.decisions.sign_certificate(
        context.station_id, payload["csr"], payload.get("certificateType", "")
    )
    response: dict[str, Any] = {"status": decision.status}
    if decision.reason:
        response["statusInfo"] = _status_info(decision.reason, decision.detail)
    return Outcome(response, [notification("SignCertificate", payload)])


async def get_15118_ev_certificate(context: CallContext, payload: dict[str, Any]) -> Outcome:
    answer = await context.decisions.ev_certificate(
        context.station_id,
        payload["iso15118SchemaVersion"],
        payload["action"],
        payload["exiRequest"],
    )
    response: dict[str, Any] = {"status": answer.status, "exiResponse": answer.value}
    if answer.reason:
        response["statusInfo"] = _status_info(answer.reason, answer.detail)
    return Outcome(response, [notification("Get15118EVCertificate", payload)])


async def get_certificate_status(context: CallContext, payload: dict[str, Any]) -> Outcome:
    answer = await context.decisions.certificate_status(
        context.station_id, payload["ocspRequestData"]
    )
    response: dict[str, Any] = {"status": answer.status}
    if answer.value:
        response["ocspResult"] = answer.value
    if answer.reason:
        response["statusInfo"] = _status_info(answer.reason, answer.detail)
    return Outcome(response, [notification("GetCertificateStatus", payload)])
