"""Which session events go out: opened once, updates at a bounded rate, closed once."""

from __future__ import annotations

from datetime import timedelta

from chargegrid.session.domain.emission import emissions, mark_emitted
from chargegrid.session.domain.lifecycle import apply, new_session
from chargegrid.session.domain.model import COMPLETED, SessionState
from tests.unit.session.builders import a_start, an_end, at

INTERVAL = 30.0


def opened_session() -> SessionState:
    state = new_session("CP-1", a_start())
    apply(state, a_start())
    mark_emitted(state, emissions(state, at(0), INTERVAL), at(0))
    return state


def test_a_new_session_is_announced_once() -> None:
    state = new_session("CP-1", a_start())
    assert emissions(state, at(0), INTERVAL) == ["opened"]
    mark_emitted(state, ["opened"], at(0))
    assert emissions(state, at(0), INTERVAL) == []


def test_updates_wait_for_the_interval_since_the_last_event() -> None:
    state = opened_session()
    now = at(0) + timedelta(seconds=29)
    assert emissions(state, now, INTERVAL) == []
    later = at(0) + timedelta(seconds=30)
    assert emissions(state, later, INTERVAL) == ["updated"]
    mark_emitted(state, ["updated"], later)
    assert emissions(state, later + timedelta(seconds=1), INTERVAL) == []


def test_a_token_learnt_mid_session_is_announced_at_once() -> None:
    state = opened_session()
    now = at(0) + timedelta(seconds=1)
    assert emissions(state, now, INTERVAL) == []
    assert emissions(state, now, INTERVAL, urgent=True) == ["updated"]


def test_closing_is_announced_at_once_and_never_again() -> None:
    state = opened_session()
    state.status = COMPLETED
    assert emissions(state, at(0), INTERVAL) == ["closed"]
    mark_emitted(state, ["closed"], at(0))
    assert emissions(state, at(60), INTERVAL) == []


def test_a_session_first_seen_closed_is_opened_and_closed_together() -> None:
    state = new_session("CP-1", an_end(5, 2000))
    apply(state, an_end(5, 2000))
    assert emissions(state, at(5), INTERVAL) == ["opened", "closed"]
