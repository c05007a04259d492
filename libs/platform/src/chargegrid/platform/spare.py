"""`python -m chargegrid.platform.spare chargegrid.<service>`: a warm spare of a service.

Importing a service costs ~1.7 s of CPU (grpc, SQLAlchemy, alembic, aiokafka, protobuf),
which on a loaded machine took 30-50 s of wall time before a restarted service even logged
(issue 20 asks for a restarted consumer consuming again within 5 s). A spare does those
imports ahead of time and then waits, doing nothing, holding no port. When the service's
process dies the dev supervisor writes a line to the spare's stdin, and the spare becomes
the service (its `__main__`, imports already done). End of input (the supervisor gone)
ends it. While it waits its process name is `spare-<service>`, so tools looking for the
live service (`ps`, the e2e stack) can tell the two apart.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
import os
import runpy
import sys

_PR_SET_NAME = 15


def set_process_name(name: str) -> None:
    """/proc/<pid>/comm (15 bytes at most); Linux only, silently nothing elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)


def main(module: str) -> int:
    service = module.rsplit(".", 1)[-1]
    set_process_name(f"spare-{service}")
    importlib.import_module(f"{module}.__main__")  # the imports; its body is name-guarded
    print(f"warm spare ready (pid {os.getpid()})", flush=True)
    if not sys.stdin.readline():
        return 0
    set_process_name("python")
    sys.argv = [sys.argv[0]]
    del sys.modules[f"{module}.__main__"]  # run afresh as __main__ (its imports stay cached)
    runpy.run_module(module, run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].startswith("chargegrid."):
        print("usage: python -m chargegrid.platform.spare chargegrid.<service>", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
