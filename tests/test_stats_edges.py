"""Edges of the report's statistics that the hand-value table does not reach (found by mutation testing):
one run, rounding past 1, and the messages that name a bad count."""

import pytest

from orchestrator.report.stats import pass_hat_k, wilson_interval


def test_one_run_still_has_an_interval():
    assert wilson_interval(1, 1) == pytest.approx((0.2065, 1.0), abs=5e-4)
    assert wilson_interval(0, 1) == pytest.approx((0.0, 0.7935), abs=5e-4)


@pytest.mark.parametrize("n", [16, 40, 46, 54, 68])
def test_an_interval_never_leaves_zero_to_one_even_by_rounding(n):
    # At these n the raw Wilson upper bound of n/n rounds to 1.0000000000000002.
    low, high = wilson_interval(n, n)
    assert high == 1.0 and 0.0 <= low < 1.0
    low, high = wilson_interval(0, n)
    assert low == 0.0 and high > 0.0


def test_bad_counts_are_refused_with_the_values_named():
    with pytest.raises(ValueError, match=r"passes 4 is not within 0\.\.3"):
        wilson_interval(4, 3)
    with pytest.raises(ValueError, match=r"passes -1 is not within 0\.\.3"):
        wilson_interval(-1, 3)
    with pytest.raises(ValueError, match=r"passes 5 is not within 0\.\.4"):
        pass_hat_k(4, 5, 1)
    with pytest.raises(ValueError, match=r"^k must be at least 1$"):
        pass_hat_k(3, 2, 0)
