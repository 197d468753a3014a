"""Hidden: the token bucket's edge cases, beyond the visible specification."""

import pytest

from throttle.bucket import TokenBucket
from throttle.clock import ManualClock, MonotonicClock


def test_fractional_refill_accumulates():
    clock = ManualClock()
    bucket = TokenBucket(capacity=1, refill_per_second=0.25, clock=clock)
    assert bucket.try_acquire()
    for _ in range(3):
        clock.advance(1.0)
        assert not bucket.try_acquire()  # 0.75 tokens so far: not enough
    clock.advance(1.0)
    assert bucket.try_acquire()


def test_a_refused_request_spends_nothing():
    bucket = TokenBucket(capacity=3, refill_per_second=1.0, clock=ManualClock())
    assert not bucket.try_acquire(4)
    assert bucket.available() == 3


def test_never_exceeds_capacity_and_time_going_backwards_adds_nothing():
    clock = ManualClock(start=100.0)
    bucket = TokenBucket(capacity=2, refill_per_second=10.0, clock=clock)
    bucket.try_acquire(2)
    clock.t = 50.0  # a clock that jumped back must not mint tokens
    assert bucket.available() == 0
    clock.t = 1000.0
    assert bucket.available() == 2


@pytest.mark.parametrize("n", [0, -1])
def test_acquiring_zero_or_negative_is_refused(n):
    with pytest.raises(ValueError):
        TokenBucket(capacity=2, refill_per_second=1.0, clock=ManualClock()).try_acquire(n)


def test_default_clock_is_real_time():
    bucket = TokenBucket(capacity=1, refill_per_second=1.0)
    assert isinstance(bucket.clock, MonotonicClock) or hasattr(bucket.clock, "now")
    assert bucket.try_acquire()
