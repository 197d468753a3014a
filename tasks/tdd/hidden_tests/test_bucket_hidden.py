"""Hidden: the token bucket's edge cases, through its public interface only (try_acquire, available)
and only what the prompt and tests/test_bucket.py state: starts full, refills continuously at
refill_per_second up to capacity, a refused request takes nothing, the real clock when none is given."""

import time

import pytest

from throttle.bucket import TokenBucket
from throttle.clock import ManualClock


def test_refill_accumulates_over_fractional_steps():
    clock = ManualClock()
    bucket = TokenBucket(capacity=1, refill_per_second=1.0, clock=clock)
    assert bucket.try_acquire()
    clock.advance(0.5)
    assert not bucket.try_acquire()  # half a token
    clock.advance(0.5)
    assert bucket.try_acquire()


def test_slow_refill_accumulates_over_whole_seconds():
    clock = ManualClock()
    bucket = TokenBucket(capacity=1, refill_per_second=0.25, clock=clock)
    assert bucket.try_acquire()
    for _ in range(3):
        clock.advance(1.0)
        assert not bucket.try_acquire()  # 0.75 tokens so far: not enough
    clock.advance(1.0)
    assert bucket.try_acquire()


def test_fast_refill_within_a_fraction_of_a_second():
    clock = ManualClock()
    bucket = TokenBucket(capacity=2, refill_per_second=4.0, clock=clock)
    assert bucket.try_acquire(2)
    clock.advance(0.25)
    assert bucket.try_acquire()
    assert not bucket.try_acquire()


def test_a_partial_token_is_kept_across_a_refusal():
    clock = ManualClock()
    bucket = TokenBucket(capacity=1, refill_per_second=1.0, clock=clock)
    assert bucket.try_acquire()
    clock.advance(0.75)
    assert not bucket.try_acquire()
    clock.advance(0.5)  # 1.25 tokens' worth since the last grant
    assert bucket.try_acquire()


def test_a_refused_request_takes_nothing():
    bucket = TokenBucket(capacity=3, refill_per_second=1.0, clock=ManualClock())
    assert bucket.try_acquire(2)
    assert not bucket.try_acquire(2)
    assert bucket.available() == 1
    assert bucket.try_acquire(1)
    assert not bucket.try_acquire(1)


def test_a_long_idle_time_never_gives_more_than_capacity():
    clock = ManualClock()
    bucket = TokenBucket(capacity=2, refill_per_second=1.0, clock=clock)
    clock.advance(1000)
    assert bucket.try_acquire(2)
    assert not bucket.try_acquire(1)
    clock.advance(1.0)
    assert bucket.try_acquire(1)
    assert not bucket.try_acquire(1)


def test_refill_counts_from_the_last_grant():
    clock = ManualClock(start=50.0)
    bucket = TokenBucket(capacity=5, refill_per_second=1.0, clock=clock)
    assert bucket.try_acquire(5)
    clock.advance(2.0)
    assert bucket.try_acquire(2)
    assert not bucket.try_acquire(1)
    clock.advance(1.0)
    assert bucket.try_acquire(1)


def test_negative_capacity_is_refused():
    with pytest.raises(ValueError):
        TokenBucket(capacity=-2, refill_per_second=1.0, clock=ManualClock())


def test_without_a_clock_the_bucket_refills_in_real_time():
    bucket = TokenBucket(capacity=1, refill_per_second=1000.0)  # a token every millisecond
    assert bucket.try_acquire()
    deadline = time.monotonic() + 5.0
    while not bucket.try_acquire():  # wait on the condition, not a fixed sleep
        assert time.monotonic() < deadline, "no token came back within 5 s of real time"
        time.sleep(0.001)
