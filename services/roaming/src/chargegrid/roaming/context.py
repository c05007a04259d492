"""What OCPI request handlers reach through `request.app.state.context`.

One object built by the composition root (or a test) holds the stores and clients; module
routers take it with `Depends(context_of)`. Modules that need more (gRPC channels to other
services) put it in `services` under their own name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from chargegrid.roaming.client import OcpiClient, Party
from chargegrid.roaming.clock import Clock
from chargegrid.roaming.ocpi.registry import ModuleRegistry
from chargegrid.roaming.outbox import Outbox
from chargegrid.roaming.partners import PartnerStore
from chargegrid.roaming.settings import RoamingSettings


@dataclass
class RoamingContext:
    settings: RoamingSettings
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    partners: PartnerStore
    outbox: Outbox
    client: OcpiClient
    registry: ModuleRegistry = field(default_factory=ModuleRegistry)
    services: dict[str, Any] = field(default_factory=dict)

    @property
    def ours(self) -> Party:
        return Party(self.settings.country_code, self.settings.party_id)

    @property
    def versions_url(self) -> str:
        return f"{self.settings.public_url}/ocpi/versions"

    def our_roles(self) -> list[dict[str, Any]]:
        """Our CredentialsRole list: one CPO role."""
        return [
            {
                "role": "CPO",
                "party_id": self.settings.party_id,
                "country_code": self.settings.country_code,
                "business_details": {"name": self.settings.business_name},
            }
        ]


def context_of(request: Request) -> RoamingContext:
    return request.app.state.context  # type: ignore[no-any-return]
