"""The module registry: each OCPI module declares its identifier, our role and its router.

The HTTP app mounts every router at `/ocpi/2.2.1/<identifier>`, lists it in our version
details, and every request to it is authenticated and checked against the partner's allowed
modules (`chargegrid.roaming.ocpi.auth.partner_for`). Adding a module is one file under
`chargegrid.roaming.modules` that builds a `Module`, and one line in `modules.MODULES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter

VERSION = "2.2.1"
SENDER, RECEIVER = "SENDER", "RECEIVER"


@dataclass(frozen=True)
class Module:
    #: OCPI ModuleID (versions.asciidoc): credentials, locations, sessions, cdrs, tariffs,
    #: tokens, commands, ...
    identifier: str
    #: Our InterfaceRole for it: SENDER (we own the objects) or RECEIVER.
    role: str
    router: APIRouter
    #: False only for credentials: a partner with token A may use it before registering.
    needs_registration: bool = True
    #: Further roles listed for the same URL (credentials is both SENDER and RECEIVER).
    extra_roles: tuple[str, ...] = ()

    @property
    def prefix(self) -> str:
        return f"/ocpi/{VERSION}/{self.identifier}"


class ModuleRegistry:
    def __init__(self, modules: list[Module] | None = None) -> None:
        self._modules: dict[str, Module] = {}
        for module in modules or []:
            self.add(module)

    def add(self, module: Module) -> None:
        if module.identifier in self._modules:
            raise ValueError(f"module {module.identifier!r} registered twice")
        self._modules[module.identifier] = module

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._modules.values())

    def identifiers(self) -> set[str]:
        return set(self._modules)

    def endpoints(self, base_url: str) -> list[dict[str, str]]:
        """Our version details' endpoints (versions.asciidoc, Endpoint class)."""
        return [
            {"identifier": m.identifier, "role": role, "url": base_url + m.prefix}
            for m in self._modules.values()
            for role in (m.role, *m.extra_roles)
        ]
