"""Per-connection protection: the rate limit slows a flood, the bad-frame counter trips."""

from chargegrid.gateway.limits import TokenBucket, ViolationCounter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_within_the_bucket_is_not_delayed_and_the_excess_waits() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=10, burst=20, clock=clock)
    assert [bucket.take() for _ in range(20)] == [0.0] * 20
    assert bucket.take() == 0.1  # one token short at 10/s
    assert bucket.take() == 0.2


def test_tokens_come_back_with_time() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=10, burst=2, clock=clock)
    bucket.take()
    bucket.take()
    clock.now = 0.1
    assert bucket.take() == 0.0


def test_bad_frames_trip_the_counter_only_within_the_window() -> None:
    clock = FakeClock()
    counter = ViolationCounter(limit=3, window_s=10, clock=clock)
    assert not counter.record()
    assert not counter.record()
    clock.now = 11  # the first two fall out of the window
    assert not counter.record()
    assert not counter.record()
    assert counter.record()
