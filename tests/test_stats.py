"""The report's statistics against values worked out by hand or taken from published tables."""

import math

import pytest

from orchestrator.report.stats import all_passed, mean_known, median, pass_hat_k, percentile, wilson_interval


@pytest.mark.parametrize("passes, n, low, high", [
    (3, 3, 0.4385, 1.0),      # 3/(3 + 1.96^2): the familiar lower bound for 3 of 3
    (0, 3, 0.0, 0.5615),
    (6, 8, 0.4093, 0.9285),
    (15, 30, 0.3315, 0.6685),
])
def test_wilson_interval_matches_hand_values(passes, n, low, high):
    lo, hi = wilson_interval(passes, n)
    assert lo == pytest.approx(low, abs=5e-4)
    assert hi == pytest.approx(high, abs=5e-4)


def test_wilson_interval_without_runs_is_unknown_and_bad_counts_are_refused():
    assert wilson_interval(0, 0) is None
    with pytest.raises(ValueError):
        wilson_interval(4, 3)


@pytest.mark.parametrize("n, c, k, expected", [
    (3, 3, 3, 1.0), (3, 2, 1, 2 / 3), (3, 2, 2, 1 / 3), (3, 2, 3, 0.0), (3, 0, 1, 0.0),
    (5, 4, 2, 6 / 10),        # C(4,2)/C(5,2)
    (2, 1, 3, None),          # fewer runs than k: not estimable, not 0
])
def test_pass_hat_k_is_taus_combinatorial_estimate(n, c, k, expected):
    got = pass_hat_k(n, c, k)
    assert got == (None if expected is None else pytest.approx(expected))


def test_pass_hat_k_refuses_nonsense():
    with pytest.raises(ValueError):
        pass_hat_k(3, 4, 1)
    with pytest.raises(ValueError):
        pass_hat_k(3, 1, 0)


def test_all_passed():
    assert all_passed(3, 3) is True
    assert all_passed(3, 2) is False
    assert all_passed(0, 0) is None


def test_unknown_values_are_left_out_not_counted_as_zero():
    assert mean_known([100, None, 200]) == 150
    assert mean_known([None, None]) is None
    assert median([None, 3, 1, 2]) == 2


def test_percentile_interpolates_linearly_like_numpy():
    values = list(range(1, 11))
    assert percentile(values, 90) == pytest.approx(9.1)
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile([7.0], 90) == 7.0
    assert percentile([], 90) is None
    assert math.isclose(percentile([0.5, 0.6, 0.7, 0.8, 0.9, 1.1, 2.0], 90), 1.46)
