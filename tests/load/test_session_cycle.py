"""The load generator's full sessions: Authorize, Start, MeterValues, Stop, in that order."""

from __future__ import annotations

from bench.session_cycle import METER_VALUES_PER_SESSION, SessionCycle


def accepted(action: str) -> list[object]:
    answer: dict[str, object] = {"idTagInfo": {"status": "Accepted"}}
    if action == "StartTransaction":
        answer["transactionId"] = 77
    return [3, "uid", answer if action != "MeterValues" else {}]


def test_a_session_runs_through_and_starts_again() -> None:
    cycle = SessionCycle()
    actions = []
    registers = []
    for _ in range(METER_VALUES_PER_SESSION + 4):
        action, payload = cycle.next_call()
        actions.append(action)
        if action == "MeterValues":
            assert payload["transactionId"] == 77
            registers.append(int(payload["meterValue"][0]["sampledValue"][0]["value"]))
        if action == "StopTransaction":
            assert payload["transactionId"] == 77
            assert payload["meterStop"] == registers[-1] + 25
        cycle.answered(action, accepted(action))
    assert actions == (
        ["Authorize", "StartTransaction"]
        + ["MeterValues"] * METER_VALUES_PER_SESSION
        + ["StopTransaction", "Authorize"]
    )
    assert registers == sorted(registers)
    assert cycle.completed == 1
    assert cycle.refused == {}


def test_an_error_answer_starts_over_and_is_counted() -> None:
    cycle = SessionCycle()
    cycle.answered("Authorize", accepted("Authorize"))
    action, _ = cycle.next_call()
    assert action == "StartTransaction"
    cycle.answered(action, [4, "uid", "InternalError", "", {}])
    assert cycle.next_call()[0] == "Authorize"
    assert cycle.refused == {"StartTransaction:CALLERROR": 1}


def test_a_refused_card_is_counted() -> None:
    cycle = SessionCycle()
    cycle.answered("Authorize", [3, "uid", {"idTagInfo": {"status": "ConcurrentTx"}}])
    assert cycle.refused == {"Authorize:ConcurrentTx": 1}
