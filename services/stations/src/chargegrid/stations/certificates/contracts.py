"""Get15118EVCertificate (M01/M02): the EV's EXI request forwarded to the contract-certificate
provider (a CPS / mobility operator backend) over an HTTP hook.

The hook receives `{"stationId", "iso15118SchemaVersion", "action", "exiRequest"}` as JSON
and answers `{"status": "Accepted"|"Failed", "exiResponse": "..."}`. The CSMS does not read
the EXI: it carries it, and a provider that fails or is not configured is a Failed.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

MAX_EXI = 7500  # exiRequest maxLength in the 2.0.1 schema
MAX_EXI_RESPONSE = 17000

Post = Callable[[str, dict[str, str], float], Awaitable[dict[str, object]]]


class ContractFailed(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ContractRequest:
    station_id: str
    schema_version: str
    action: str
    exi_request: str


async def http_json_post(url: str, body: dict[str, str], timeout_s: float) -> dict[str, object]:
    def send() -> dict[str, object]:
        # The scheme is checked in `ContractProvider` (http or https only).
        request = urllib.request.Request(  # noqa: S310
            url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            answer = json.loads(response.read(MAX_EXI_RESPONSE * 2))
        if not isinstance(answer, dict):
            raise ValueError("the provider's answer is not a JSON object")
        return answer

    return await asyncio.to_thread(send)


class ContractProvider:
    def __init__(self, url: str, timeout_s: float, post: Post = http_json_post) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the contract-certificate provider URL must be http(s): {url!r}")
        self.url = url
        self.timeout_s = timeout_s
        self.post = post

    async def forward(self, request: ContractRequest) -> str:
        """The provider's exiResponse; raises ContractFailed when there is none."""
        if request.action not in ("Install", "Update"):
            raise ContractFailed(
                "InvalidAction", f"action is Install or Update, not {request.action!r}"
            )
        if not request.exi_request or len(request.exi_request) > MAX_EXI:
            raise ContractFailed("InvalidEXI", f"exiRequest is 1 to {MAX_EXI} characters")
        body = {
            "stationId": request.station_id,
            "iso15118SchemaVersion": request.schema_version,
            "action": request.action,
            "exiRequest": request.exi_request,
        }
        try:
            answer = await self.post(self.url, body, self.timeout_s)
        except (OSError, ValueError, urllib.error.URLError) as exc:
            raise ContractFailed("ProviderUnreachable", str(exc)) from exc
        exi = answer.get("exiResponse")
        if answer.get("status") != "Accepted" or not isinstance(exi, str) or not exi:
            raise ContractFailed("ProviderFailed", str(answer.get("status", "no status")))
        if len(exi) > MAX_EXI_RESPONSE:
            raise ContractFailed("ProviderFailed", "exiResponse exceeds the schema's maximum")
        return exi
