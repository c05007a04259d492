"""Downloading an uploaded log file from the firmware service's HTTP endpoint.

`GET /logs/{id}` with the API token as a bearer token, streamed into a hidden file beside the
target and renamed only once its SHA-256 matches the one the service recorded at upload:
a failed or corrupt download never leaves a file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from chargegrid.api.firmware.v1 import firmware_pb2 as pb
from chargegrid.cli.firmware_common import fail

CHUNK = 1 << 16
TIMEOUT_S = 60.0
DEFAULT_HTTP_URL = "http://127.0.0.1:8070"


@dataclass(frozen=True)
class Downloaded:
    file: Path
    size_bytes: int
    sha256: str
    verified: bool


def download_url(log: pb.LogFile, http_url: str | None) -> str:
    """Where the log file is: `--http-url` when given, else the URL the service gave."""
    if not log.download_url and not log.uploaded_at.seconds:
        fail(f"log file {log.id} is not uploaded yet (status: {log.status or 'unknown'})")
    if http_url or not log.download_url:
        return f"{(http_url or DEFAULT_HTTP_URL).rstrip('/')}/logs/{log.id}"
    return log.download_url


def target_file(log: pb.LogFile, output: Path | None) -> Path:
    # The station chose the file name: keep only its last part.
    return output or Path(Path(log.file_name).name or f"{log.id}.log")


def _http_error(url: str, exc: urllib.error.HTTPError) -> str:
    if exc.code == 401:
        return "the firmware HTTP endpoint refused the API token (401)"
    if exc.code == 404:
        return f"{url}: not found (404): the log file is not on the server"
    return f"{url}: HTTP {exc.code} {exc.reason}"


def fetch(url: str, token: str, expected_sha256: str, target: Path) -> Downloaded:
    if not url.startswith(("http://", "https://")):
        fail(f"cannot download from {url!r}: not an http(s) URL")
    # The scheme is checked just above: never file: or a custom one.
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    partial = Path(partial_name)
    digest = hashlib.sha256()
    size = 0
    try:
        with (
            os.fdopen(handle, "wb") as sink,
            urllib.request.urlopen(request, timeout=TIMEOUT_S) as response,  # noqa: S310
        ):
            while chunk := response.read(CHUNK):
                digest.update(chunk)
                sink.write(chunk)
                size += len(chunk)
        actual = digest.hexdigest()
        if expected_sha256 and actual != expected_sha256.lower():
            fail(
                f"checksum mismatch: the service recorded sha256 {expected_sha256}, "
                f"the download has {actual}; nothing was saved"
            )
        os.replace(partial, target)
    except urllib.error.HTTPError as exc:
        fail(_http_error(url, exc))
    except urllib.error.URLError as exc:
        fail(f"the firmware HTTP endpoint is not reachable at {url} ({exc.reason})")
    except (OSError, TimeoutError) as exc:
        fail(f"download of {url} failed: {exc}")
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return Downloaded(target, size, digest.hexdigest(), bool(expected_sha256))
