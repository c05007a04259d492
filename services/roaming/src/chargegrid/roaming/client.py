"""Calls to a partner's OCPI API: `Authorization: Token <base64>`, fresh request ids, hub
routing headers, and the envelope read back (a status_code other than 1xxx is a failure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from chargegrid.roaming.ocpi import tokens
from chargegrid.roaming.ocpi.headers import request_headers


class PartnerCallFailed(Exception):
    """The partner could not be reached or refused the call; `str()` says what happened."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        #: None when no answer came (connection refused, timeout).
        self.http_status = http_status

    @property
    def partner_down(self) -> bool:
        return self.http_status is None or self.http_status >= 500


@dataclass(frozen=True)
class Party:
    country_code: str
    party_id: str


class OcpiClient:
    def __init__(self, ours: Party, timeout_s: float, transport: Any = None) -> None:
        self.ours = ours
        self.http = httpx.AsyncClient(timeout=timeout_s, transport=transport)

    async def close(self) -> None:
        await self.http.aclose()

    async def call(
        self,
        method: str,
        url: str,
        token: str,
        body: Any = None,
        to: Party | None = None,
    ) -> Any:
        """The `data` of a successful OCPI answer; PartnerCallFailed otherwise."""
        headers = request_headers(
            self.ours.country_code,
            self.ours.party_id,
            to.country_code if to else "",
            to.party_id if to else "",
        )
        headers["Authorization"] = tokens.encode_header(token)
        try:
            response = await self.http.request(method, url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise PartnerCallFailed(f"{method} {url}: {type(exc).__name__}: {exc}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        status = answer.get("status_code") if isinstance(answer, dict) else None
        if not response.is_success or not isinstance(status, int) or not 1000 <= status < 2000:
            message = answer.get("status_message", "") if isinstance(answer, dict) else ""
            text = f"{method} {url}: HTTP {response.status_code}, OCPI status {status} {message}"
            raise PartnerCallFailed(text.rstrip(), response.status_code)
        return answer.get("data")
