"""A station's full charging sessions, one CALL at a time, for the load generator.

`Session` mode of bench.ocpp_load (BENCH_LOAD_ACTION=Session): each station runs
Authorize -> StartTransaction -> BENCH_LOAD_METER_VALUES (10) MeterValues -> StopTransaction,
over and over (OCPP 1.6, the id tag BENCH_LOAD_ID_TAG, "BENCH"), with its energy register
growing, readings stamped now. Every CALL is one of the load's messages; the transaction id
comes from the StartTransaction answer (the session service's, through the gateway).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

ID_TAG = os.environ.get("BENCH_LOAD_ID_TAG", "BENCH")
METER_VALUES_PER_SESSION = int(os.environ.get("BENCH_LOAD_METER_VALUES", "10"))
STEP_WH = 25


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class SessionCycle:
    """Which CALL a station sends next, and what the answers told it."""

    register_wh: int = 1000
    transaction_id: int | None = None
    step: int = 0  # 0 Authorize, 1 Start, 2..N+1 MeterValues, N+2 Stop
    completed: int = 0
    refused: dict[str, int] = field(default_factory=dict)

    def next_call(self) -> tuple[str, dict[str, Any]]:
        if self.step == 0:
            return "Authorize", {"idTag": ID_TAG}
        if self.step == 1:
            return "StartTransaction", {
                "connectorId": 1,
                "idTag": ID_TAG,
                "meterStart": self.register_wh,
                "timestamp": _now(),
            }
        self.register_wh += STEP_WH
        if self.step <= METER_VALUES_PER_SESSION + 1:
            return "MeterValues", {
                "connectorId": 1,
                "transactionId": self.transaction_id,
                "meterValue": [
                    {
                        "timestamp": _now(),
                        "sampledValue": [
                            {
                                "value": str(self.register_wh),
                                "measurand": "Energy.Active.Import.Register",
                                "unit": "Wh",
                            },
                            {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                        ],
                    }
                ],
            }
        return "StopTransaction", {
            "transactionId": self.transaction_id,
            "idTag": ID_TAG,
            "meterStop": self.register_wh,
            "timestamp": _now(),
            "reason": "Local",
        }

    def answered(self, action: str, reply: list[Any]) -> None:
        """Move on after `action`'s answer (a refused Authorize or Start starts over)."""
        if reply[0] != 3:
            self._refused(f"{action}:CALLERROR")
            self.step = 0
            return
        status = reply[2].get("idTagInfo", {}).get("status", "Accepted")
        if action in ("Authorize", "StartTransaction") and status != "Accepted":
            self._refused(f"{action}:{status}")
        if action == "StartTransaction":
            self.transaction_id = int(reply[2]["transactionId"])
        if action == "StopTransaction":
            self.completed += 1
            self.step = 0
            return
        self.step += 1

    def _refused(self, key: str) -> None:
        self.refused[key] = self.refused.get(key, 0) + 1
