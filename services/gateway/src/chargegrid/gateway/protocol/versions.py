"""The OCPP versions the gateway speaks and the WebSocket subprotocols that name them."""

from __future__ import annotations

from enum import StrEnum

from chargegrid.api.common.v1 import common_pb2


class OcppVersion(StrEnum):
    V16 = "1.6"
    V201 = "2.0.1"
    V21 = "2.1"

    @property
    def subprotocol(self) -> str:
        return f"ocpp{self.value}"

    @property
    def schema_dir(self) -> str:
        return {"1.6": "v16", "2.0.1": "v201", "2.1": "v21"}[self.value]

    def to_proto(self) -> common_pb2.OcppVersion.ValueType:
        return _PROTO[self]  # a module-level table: this runs for every stored frame


_PROTO = {
    OcppVersion.V16: common_pb2.OCPP_VERSION_16,
    OcppVersion.V201: common_pb2.OCPP_VERSION_201,
    OcppVersion.V21: common_pb2.OCPP_VERSION_21,
}

#: Preference order when a station offers several (newest first).
SUBPROTOCOLS: dict[str, OcppVersion] = {
    v.subprotocol: v for v in (OcppVersion.V21, OcppVersion.V201, OcppVersion.V16)
}
