"""RecentMap: the newest keys are kept, the oldest forgotten beyond the capacity."""

from __future__ import annotations

import pytest

from chargegrid.platform.recent import RecentMap


def test_a_remembered_key_gives_its_value_and_an_unknown_one_none() -> None:
    recent: RecentMap[str, int] = RecentMap(capacity=2)
    recent.remember("a", 1)
    assert recent.get("a") == 1
    assert recent.get("b") is None


def test_beyond_its_capacity_it_forgets_the_least_recently_remembered() -> None:
    recent: RecentMap[str, int] = RecentMap(capacity=2)
    recent.remember("a", 1)
    recent.remember("b", 2)
    recent.remember("a", 1)  # remembered again: now the newest
    recent.remember("c", 3)
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (1, None, 3)
    assert len(recent) == 2


def test_a_capacity_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RecentMap(capacity=0)
