"""How hard the fuzz tests push: a few derandomized examples in CI, more on demand.

`FUZZ_EXAMPLES=N` runs N examples per fuzz test with fresh random inputs each run (a longer
local run); unset, every test runs its CI budget with a fixed seed, so CI is repeatable and
bounded. No example database: the stack's state, not a replayed file, is what is tested.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

_CONFIGURED = os.environ.get("FUZZ_EXAMPLES")


def examples(ci_examples: int) -> int:
    return int(_CONFIGURED) if _CONFIGURED else ci_examples


def fuzz_settings(ci_examples: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Hypothesis settings for one fuzz test whose CI budget is `ci_examples`, and a pytest
    timeout that grows with the examples (the suite's 120 s would cut a long run short)."""
    timeout = pytest.mark.timeout(120 + 2 * examples(ci_examples))
    hypothesis = settings(
        max_examples=examples(ci_examples),
        derandomize=_CONFIGURED is None,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
            HealthCheck.filter_too_much,
        ],
    )
    return lambda test: timeout(hypothesis(test))
