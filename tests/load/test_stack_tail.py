"""bench_stack's tail reading: a stall shows as a window of slow replies, with the CPU then."""

from __future__ import annotations

from bench.stack_tail import CpuSampler, tail


def test_a_stall_is_one_window_holding_the_slow_replies() -> None:
    # 1,000 calls over 1 s at 5 ms, except the ten sent in 0.50-0.51 s, which waited 300 ms.
    sent_at = [i / 1000 for i in range(1000)]
    latencies = [0.3 if 500 <= i < 510 else 0.005 for i in range(1000)]
    found = tail(latencies, sent_at, began_at=100.0, sampler=None)
    assert found["windows"] == 10
    assert found["windows_with_a_reply_over_100_ms"] == 1
    assert found["replies_over_100_ms"] == 10
    assert found["reply_max_ms"] == 300.0
    assert found["replies_over_100_ms_by_second"] == [10]
    assert found["reply_p99_ms_sent_after_2_s"] is None  # nothing sent that late
    worst = max(found["worst_windows"], key=lambda w: w["max_ms"])
    assert worst == {"sent_from_s": 0.5, "calls": 100, "max_ms": 300.0}


def test_a_start_up_burst_is_told_from_a_steady_tail() -> None:
    # 3 s at 1 ms; the calls of the first 0.5 s waited 250 ms, the rest 5 ms.
    sent_at = [i / 1000 for i in range(3000)]
    latencies = [0.25 if i < 500 else 0.005 for i in range(3000)]
    found = tail(latencies, sent_at, began_at=0.0, sampler=None)
    assert found["replies_over_100_ms_by_second"] == [500, 0, 0]
    assert found["reply_p99_ms_sent_after_2_s"] == 5.0


def test_the_cpu_of_each_process_while_the_slow_calls_waited() -> None:
    counters = iter(
        [{"gateway": 0.0, "session": 0.0}, {"gateway": 0.01, "session": 0.08}]
        + [{"gateway": 0.02, "session": 0.16}] * 10
    )
    sampler = CpuSampler(lambda: next(counters), every_s=0.1)
    sampler.samples = [(10.0, next(counters)), (10.1, next(counters)), (10.2, next(counters))]
    busy = sampler.busy(10.05, 10.15)
    assert busy == {"gateway": 0.1, "session": 0.8}
    found = tail([0.1, 0.12], [0.0, 0.01], began_at=10.0, sampler=sampler)
    shares = [w["cpu_share_while_waiting"] for w in found["worst_windows"]]
    assert shares == [{"gateway": 0.1, "session": 0.8}]


def test_no_calls_no_tail() -> None:
    assert tail([], [], began_at=0.0, sampler=None) == {}
