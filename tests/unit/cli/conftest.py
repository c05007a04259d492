"""The fake Firmware service over real gRPC, and the HTTP server its log files come from."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from chargegrid.api.firmware.v1 import firmware_pb2_grpc as pb_grpc
from tests.unit.cli.fake_firmware import FakeFirmware, LogServer, uploaded_logs


@pytest.fixture
def firmware() -> Iterator[tuple[FakeFirmware, str]]:
    fake = FakeFirmware()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb_grpc.add_FirmwareServicer_to_server(fake, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield fake, f"127.0.0.1:{port}"
    server.stop(0)


@pytest.fixture
def log_server(firmware: tuple[FakeFirmware, str]) -> Iterator[LogServer]:
    with LogServer() as served:
        firmware[0].logs = uploaded_logs(served.url)
        yield served
