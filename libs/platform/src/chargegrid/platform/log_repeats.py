"""One line, not hundreds, for a library warning that repeats while a dependency is down.

While the broker restarts, aiokafka logs "Unable connect to node ..." and its kin at ERROR on
every reconnect attempt of every client: about 40 lines a second per service, 400 in the dev
stack, whose supervisor must read and print them all. On a loaded machine that flood starved
the supervisor (it restarted the broker tens of seconds late) and blocked services writing to
a full pipe. So a stdlib warning or error whose logger and text were already let through
within `window_s` is dropped and counted; the next one let through says how many were.
Lines below WARNING (access logs, migrations) always pass.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

DEFAULT_WINDOW_S = 5.0
#: Distinct (logger, text) pairs remembered; beyond it the memory starts again (bounded).
MAX_KEYS = 1_000


class RepeatedWarnings(logging.Filter):
    def __init__(
        self, window_s: float = DEFAULT_WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.window_s = window_s
        self.clock = clock
        self._seen: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        text = record.getMessage()
        key = (record.name, text)
        now = self.clock()
        passed = self._seen.get(key)
        if passed is not None and now - passed[0] < self.window_s:
            self._seen[key] = (passed[0], passed[1] + 1)
            return False
        if len(self._seen) >= MAX_KEYS:
            self._seen.clear()
        self._seen[key] = (now, 0)
        if passed is not None and passed[1]:
            record.msg = f"{text} ({passed[1]} more like it dropped since the last shown)"
            record.args = None
        return True
