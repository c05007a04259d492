"""Child processes that die with their parent and stop as a group.

`make run` in the background followed by a kill must leave nothing behind. Each child runs
in its own process group (so a Ctrl-C reaches it only through the supervisor, which stops
services in order) and asks Linux to send it SIGTERM when its parent dies, which covers a
supervisor killed with SIGKILL.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """Ask the kernel to send `sig` to this process when its parent exits (Linux only)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)


def signal_group(pid: int, sig: int) -> None:
    """Send `sig` to the process group led by `pid`, if it still exists."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
