"""A library warning repeated while a dependency is down is let through once per window."""

from __future__ import annotations

import logging

from chargegrid.platform.log_repeats import RepeatedWarnings


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def a_record(text: str, level: int = logging.ERROR, name: str = "aiokafka") -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, text, None, None)


def test_the_same_error_within_the_window_is_dropped_and_counted_on_the_next_one() -> None:
    clock = Clock()
    repeats = RepeatedWarnings(window_s=5, clock=clock)
    passed = [repeats.filter(a_record("Unable connect to node 111")) for _ in range(40)]
    assert passed == [True] + [False] * 39
    clock.now = 5.0
    later = a_record("Unable connect to node 111")
    assert repeats.filter(later)
    dropped = "(39 more like it dropped since the last shown)"
    assert later.getMessage() == f"Unable connect to node 111 {dropped}"


def test_other_texts_other_loggers_and_lines_below_warning_always_pass() -> None:
    repeats = RepeatedWarnings(window_s=5, clock=Clock())
    assert repeats.filter(a_record("Unable connect to node 111"))
    assert repeats.filter(a_record("Unable connect to node 112"))
    assert repeats.filter(a_record("Unable connect to node 111", name="aiokafka.consumer"))
    info = [repeats.filter(a_record("GET /metrics 200", logging.INFO)) for _ in range(3)]
    assert info == [True, True, True]


def test_a_logger_emits_a_repeated_error_once_per_window() -> None:
    logger = logging.getLogger("test.log_repeats")
    handler = logging.Handler()
    seen: list[str] = []
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    handler.addFilter(RepeatedWarnings(window_s=60))
    logger.addHandler(handler)
    logger.propagate = False
    try:
        for _ in range(10):
            logger.error("broker %s down", "111")
    finally:
        logger.removeHandler(handler)
    assert seen == ["broker 111 down"]
