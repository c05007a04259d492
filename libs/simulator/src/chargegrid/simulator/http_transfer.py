"""Blocking HTTP helpers for firmware downloads and log uploads (run in a worker thread).

Standard library only: the simulator must install anywhere the CSMS's tests run, and a
station moves at most a few files, so a thread per transfer costs nothing.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from urllib.parse import urlsplit

log = logging.getLogger("chargegrid.simulator")

_SCHEMES = ("http", "https")


def target_url(location: str, file_name: str) -> str:
    """A location ending in '/' names a directory: the file goes inside it."""
    return location + file_name if location.endswith("/") else location


def upload(location: str, file_name: str, body: bytes, *, method: str, timeout_s: float) -> bool:
    """PUT or POST `body` to `location`; True on any 2xx answer."""
    url = target_url(location, file_name)
    if urlsplit(url).scheme not in _SCHEMES:
        log.warning("cannot upload to %s: only http and https are supported", url)
        return False
    request = urllib.request.Request(  # noqa: S310 (scheme checked above)
        url,
        data=body,
        method=method,
        headers={
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{file_name}"',
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("upload to %s failed: %r", url, exc)
        return False


def download(location: str, *, timeout_s: float) -> bool:
    """GET `location` and discard the body; True when it arrived completely."""
    if urlsplit(location).scheme not in _SCHEMES:
        log.warning("cannot download %s: only http and https are supported", location)
        return False
    try:
        with urllib.request.urlopen(location, timeout=timeout_s) as response:  # noqa: S310
            while response.read(65_536):
                pass
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError) as exc:
        log.warning("download of %s failed: %r", location, exc)
        return False
