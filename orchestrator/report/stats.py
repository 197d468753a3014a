"""The few statistics the reports need, written out so each can be checked by hand.

- pass@1 with a Wilson 95% interval: with 3 runs a task the plain proportion's normal interval is
  useless (it collapses to [1, 1] at 3/3); Wilson's stays inside [0, 1] and is honest at small n.
- pass^k as tau-bench defines it: for one task with n runs of which c passed, the chance that k runs
  drawn from those n all pass, C(c, k) / C(n, k); over tasks, the mean of that. It falls as k grows
  when a model is inconsistent, which pass@1 hides.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

Z_95 = 1.959963984540054
"""Two-sided 95% quantile of the standard normal."""


def wilson_interval(passes: int, n: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson score interval for a pass rate; None with no runs (no rate to bound)."""
    if n <= 0:
        return None
    if not 0 <= passes <= n:
        raise ValueError(f"passes {passes} is not within 0..{n}")
    p = passes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def pass_hat_k(n: int, c: int, k: int) -> float | None:
    """tau-bench's pass^k estimate for one task: C(c, k) / C(n, k); None when k > n (not estimable)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    if not 0 <= c <= n:
        raise ValueError(f"passes {c} is not within 0..{n}")
    if k > n:
        return None
    return math.comb(c, k) / math.comb(n, k)


def all_passed(n: int, c: int) -> bool | None:
    """Whether every run of the task passed (the observed "all k runs passed"); None with no runs."""
    return None if n == 0 else c == n


def mean_known(values: Iterable[float | None]) -> float | None:
    """Mean of the known values; None when none is known (unknown is not zero)."""
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def median(values: Iterable[float | None]) -> float | None:
    return percentile(values, 50)


def percentile(values: Iterable[float | None], q: float) -> float | None:
    """The q-th percentile of the known values, interpolating linearly between ranks (numpy's default)."""
    known = sorted(v for v in values if v is not None)
    if not known:
        return None
    pos = (len(known) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(known) - 1)
    return known[low] + (known[high] - known[low]) * (pos - low)
