"""2.x SignCertificate: the stations service's CA decides; the chain follows as CertificateSigned.

The CSR is also kept whole as a notification (audit). A decision the service could not give
is a Rejected with NoCertificateService (never an Accepted nobody will honour).
"""

from __future__ import annotations

from typing import Any

from chargegrid.gateway.events import notification
from chargegrid.gateway.routing import CallContext, Outcome


async def sign_certificate(context: CallContext, payload: dict[str, Any]) -> Outcome:
    decision = await context.decisions.sign_certificate(
        context.station_id, payload["csr"], payload.get("certificateType", "")
    )
    response: dict[str, Any] = {"status": decision.status}
    if decision.reason:
        response["statusInfo"] = {
            "reasonCode": decision.reason[:20],
            "additionalInfo": decision.detail[:512],
        }
    return Outcome(response, [notification("SignCertificate", payload)])
