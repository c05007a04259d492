"""The simulator's variable monitors (block N, station side): what SetVariableMonitoring
answers and which value changes raise events."""

from __future__ import annotations

from chargegrid.simulator.device_variables import Variable
from chargegrid.simulator.monitors import MonitorStore


def _numeric() -> Variable:
    return Variable("TxCtrlr", "EVConnectionTimeOut", "60", data_type="integer")


def test_a_threshold_fires_once_when_crossed_and_once_when_cleared() -> None:
    store, variable = MonitorStore(), _numeric()
    assert store.set(variable, "UpperThreshold", 100, 3, 0) == "Accepted"

    crossed = store.changed(variable, "60", "150")
    still = store.changed(variable, "150", "160")
    cleared = store.changed(variable, "160", "50")

    assert [(t.actual_value, t.cleared) for t in crossed] == [("150", False)]
    assert still == []
    assert [(t.actual_value, t.cleared) for t in cleared] == [("50", True)]


def test_a_delta_fires_on_a_big_enough_change_only() -> None:
    store, variable = MonitorStore(), _numeric()
    store.set(variable, "Delta", 10, 5, 0)
    assert store.changed(variable, "60", "65") == []
    assert len(store.changed(variable, "65", "80")) == 1


def test_monitors_the_station_cannot_run_get_the_spec_answers() -> None:
    store = MonitorStore()
    text = Variable("SecurityCtrlr", "OrganizationName", "x")
    assert store.set(text, "UpperThreshold", 1, 0, 0) == "Rejected"
    assert store.set(_numeric(), "Periodic", 60, 0, 0) == "UnsupportedMonitorType"
    assert store.set(_numeric(), "Delta", 1, 0, 42) == "Rejected"  # no monitor 42 to replace
    assert store.monitors == {}


def test_the_level_silences_less_severe_monitors_and_clear_reports_not_found() -> None:
    store, variable = MonitorStore(), _numeric()
    store.set(variable, "UpperThreshold", 100, 7, 0)
    store.level = 5
    assert store.changed(variable, "60", "150") == []
    assert store.clear(store.last_id) == "Accepted"
    assert store.clear(999) == "NotFound"


def test_an_identical_monitor_is_a_duplicate() -> None:
    store, variable = MonitorStore(), _numeric()
    store.set(variable, "UpperThreshold", 100, 3, 0)
    assert store.set(variable, "UpperThreshold", 100, 3, 0) == "Duplicate"
