"""Default ports of the services (ARCHITECTURE.md), in a module that imports nothing.

The `chargegrid` CLI needs them on every call; keeping them apart from the settings spares
it the import of pydantic-settings.
"""

from __future__ import annotations

#: Default gRPC port of each service; metrics listen on 9100 + the offset from 50050.
GRPC_PORTS = {
    "gateway": 50051,
    "stations": 50052,
    "authorization": 50053,
    "session": 50054,
    "billing": 50055,
    "firmware": 50056,
    "energy": 50057,
    "analytics": 50058,
    "roaming": 50059,
}


def metrics_port_for(service: str) -> int:
    """9100 + the service's gRPC offset (gateway 9101, stations 9102, ...)."""
    return 9100 + GRPC_PORTS.get(service, 50050) - 50050
