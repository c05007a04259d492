"""Process tuning of the gateway: the open-file limit bounds how many stations one process holds."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

_PROBE = """
import resource
from chargegrid.gateway.runtime import raise_open_file_limit
print(*raise_open_file_limit(), *resource.getrlimit(resource.RLIMIT_NOFILE))
"""


def _probe_with_soft_limit(soft: int) -> list[int]:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]

    def lower_soft_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    out = subprocess.run(
        [sys.executable, "-c", _PROBE],
        preexec_fn=lower_soft_limit,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [int(n) for n in out.split()]


def test_a_low_soft_limit_is_raised_to_the_hard_limit() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY or hard <= 256:
        pytest.skip("needs a finite hard limit above 256")
    returned_soft, returned_hard, soft_now, hard_now = _probe_with_soft_limit(256)
    assert (returned_soft, returned_hard) == (hard, hard)
    assert (soft_now, hard_now) == (hard, hard)


def test_a_soft_limit_already_at_the_hard_one_is_left_alone() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        pytest.skip("needs a finite hard limit")
    assert _probe_with_soft_limit(hard) == [hard, hard, hard, hard]
