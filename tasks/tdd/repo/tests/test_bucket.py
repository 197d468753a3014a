"""Specification of throttle.bucket.TokenBucket (the module does not exist yet)."""

import pytest

from throttle.bucket import TokenBucket
from throttle.clock import ManualClock


def test_starts_full_and_spends_tokens():
    bucket = TokenBucket(capacity=3, refill_per_second=1.0, clock=ManualClock())
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]


def test_refills_over_time_up_to_capacity():
    clock = ManualClock()
    bucket = TokenBucket(capacity=2, refill_per_second=0.5, clock=clock)
    assert bucket.try_acquire() and bucket.try_acquire()
    assert not bucket.try_acquire()
    clock.advance(2.0)  # 0.5 token/s x 2 s = one token
    assert bucket.try_acquire()
    assert not bucket.try_acquire()
    clock.advance(100)
    assert bucket.available() == 2


def test_acquiring_several_tokens_at_once():
    bucket = TokenBucket(capacity=5, refill_per_second=1.0, clock=ManualClock())
    assert bucket.try_acquire(4)
    assert not bucket.try_acquire(2)
    assert bucket.try_acquire(1)


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError):
        TokenBucket(capacity=0, refill_per_second=1.0, clock=ManualClock())
    with pytest.raises(ValueError):
        TokenBucket(capacity=1, refill_per_second=-1.0, clock=ManualClock())
