"""A bare OCPP-J client for fuzzing: sends any bytes, then proves the socket still works.

After each fuzzed frame it sends a Heartbeat probe and collects everything the gateway
sent until the probe's answer: those are the answers to the fuzzed frame, and the probe's
CALLRESULT shows the connection is still usable. Calls the CSMS makes meanwhile (boot
follow-ups) are answered NotSupported and kept out of the collected answers.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from websockets.sync.client import ClientConnection, connect

BOOT = {
    "ocpp1.6": {"chargePointVendor": "Fuzz", "chargePointModel": "F1"},
    "ocpp2.0.1": {"reason": "PowerUp", "chargingStation": {"model": "F1", "vendorName": "Fuzz"}},
}


class FuzzClient:
    def __init__(self, ws: ClientConnection, subprotocol: str) -> None:
        self.ws = ws
        self.subprotocol = subprotocol
        self._probes = itertools.count()

    @classmethod
    @contextmanager
    def booted(cls, url: str, station_id: str, subprotocol: str) -> Iterator[FuzzClient]:
        """A connected station whose boot the CSMS accepted."""
        with connect(
            f"{url}/{station_id}", subprotocols=[subprotocol], max_size=None, open_timeout=20
        ) as ws:
            client = cls(ws, subprotocol)
            client.boot()
            yield client

    def call(self, action: str, payload: dict[str, Any], unique_id: str) -> list[Any]:
        """Send one CALL and return its answer."""
        self.ws.send(json.dumps([2, unique_id, action, payload]))
        return self._until(unique_id)[-1]

    def boot(self) -> None:
        answer = self.call("BootNotification", BOOT[self.subprotocol], "fuzz-boot")
        assert answer[0] == 3, answer
        assert answer[2]["status"] == "Accepted", answer

    def exchange(self, frame: str | bytes) -> list[list[Any]]:
        """Send `frame`; return the gateway's answers to it (the probe proves the socket works)."""
        self.ws.send(frame)
        probe = f"probe~{next(self._probes)}"
        self.ws.send(json.dumps([2, probe, "Heartbeat", {}]))
        answers = self._until(probe)
        last = answers.pop()
        assert last[0] == 3, f"probe answered {last}"
        assert "currentTime" in last[2], f"probe answered {last}"
        return answers

    def _until(self, unique_id: str) -> list[list[Any]]:
        seen: list[list[Any]] = []
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message[0] == 2:
                self.ws.send(json.dumps([4, message[1], "NotSupported", "fuzz client", {}]))
                continue
            seen.append(message)
            if message[1] == unique_id:
                return seen
