"""What the one-machine stack consists of: services, their modules and default ports.

The order is the start order of ARCHITECTURE.md. A service is part of the stack once its
package (`chargegrid.<name>`, with a `__main__`) is installed, so adding a service to the
workspace is enough for `make run` to start it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from chargegrid.platform.ports import GRPC_PORTS, metrics_port_for

#: Services in start order (ARCHITECTURE.md), with the HTTP port of those that serve one.
SERVICE_ORDER = (
    "gateway",
    "stations",
    "authorization",
    "session",
    "billing",
    "firmware",
    "energy",
    "analytics",
    "roaming",
    "console",
)
HTTP_PORTS = {"console": 8080, "roaming": 8090, "firmware": 8070}
OCPP_PORT = 9000
BROKER_PORT = 9092


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    grpc_port: int | None
    metrics_port: int | None
    http_port: int | None
    #: Only the gateway: the OCPP WebSocket port.
    ocpp_port: int | None = None

    @property
    def module(self) -> str:
        return f"chargegrid.{self.name}"

    def port_env(self, host: str) -> dict[str, str]:
        """Variables that put this service on its ports and tell the others where it is."""
        prefix = f"CHARGEGRID_{self.name.upper()}_"
        env = {
            prefix + "GRPC_PORT": self.grpc_port,
            prefix + "METRICS_PORT": self.metrics_port,
            prefix + "HTTP_PORT": self.http_port,
            prefix + "OCPP_PORT": self.ocpp_port,
        }
        found = {key: str(value) for key, value in env.items() if value}
        if self.grpc_port:
            # Shared prefix: every other service reads it as its `<name>_address` setting.
            found[f"CHARGEGRID_{self.name.upper()}_ADDRESS"] = f"{host}:{self.grpc_port}"
        return found


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(f"chargegrid.{name}.__main__") is not None
    except ModuleNotFoundError:
        return False


def _shift(port: int | None, offset: int) -> int | None:
    return port + offset if port else None


def spec_for(name: str, port_offset: int = 0) -> ServiceSpec:
    """The service's default ports, all moved by `port_offset` (to run a second stack)."""
    grpc_port = GRPC_PORTS.get(name)
    return ServiceSpec(
        name=name,
        grpc_port=_shift(grpc_port, port_offset),
        metrics_port=_shift(metrics_port_for(name) if grpc_port else None, port_offset),
        http_port=_shift(HTTP_PORTS.get(name), port_offset),
        ocpp_port=_shift(OCPP_PORT if name == "gateway" else None, port_offset),
    )


def installed_services(only: list[str] | None = None, port_offset: int = 0) -> list[ServiceSpec]:
    """The services of SERVICE_ORDER that are installed (optionally only those named)."""
    wanted = set(only) if only else None
    unknown = (wanted or set()) - set(SERVICE_ORDER)
    if unknown:
        raise ValueError(f"unknown service(s): {', '.join(sorted(unknown))}")
    return [
        spec_for(name, port_offset)
        for name in SERVICE_ORDER
        if (wanted is None or name in wanted) and _installed(name)
    ]
