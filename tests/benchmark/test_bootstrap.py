"""Bootstrap intervals: coverage at the stated rate on values of a known distribution, and their edge cases."""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.bootstrap import bootstrap_interval


@pytest.mark.parametrize(("draw", "mean"), [("normal", 2.0), ("exponential", 1.5)])
def test_the_interval_covers_the_mean_at_the_stated_rate(draw: str, mean: float) -> None:
    rng = np.random.default_rng(7)
    trials, videos, covered = 400, 40, 0
    for trial in range(trials):
        values = rng.normal(mean, 1.0, videos) if draw == "normal" else rng.exponential(mean, videos)
        interval = bootstrap_interval(values, level=0.95, resamples=1000, seed=trial)
        covered += interval.low <= mean <= interval.high
    rate = covered / trials
    print(draw, "coverage", rate)
    # 95 % nominal; a percentile bootstrap of 40 values under-covers a little (more for a skewed law). Binomial
    # spread over 400 trials is ~1.1 %: the band rejects both a too-narrow (e.g. 80 %) and a too-wide interval.
    assert 0.90 <= rate <= 0.985, rate


def test_the_interval_narrows_with_more_videos_and_is_reproducible() -> None:
    rng = np.random.default_rng(0)
    few, many = rng.normal(0, 1, 10), rng.normal(0, 1, 1000)
    a, b = bootstrap_interval(few), bootstrap_interval(many)
    assert (a.high - a.low) > 5 * (b.high - b.low)
    assert bootstrap_interval(few) == a and bootstrap_interval(few, seed=1) != a
    assert a.low < few.mean() < a.high


def test_edge_cases() -> None:
    assert bootstrap_interval([3.0]) is None
    assert bootstrap_interval([2.0, 2.0, 2.0]).low == 2.0
    with pytest.raises(ValueError, match="finite"):
        bootstrap_interval([1.0, float("nan")])
    with pytest.raises(ValueError, match="level"):
        bootstrap_interval([1.0, 2.0], level=95)
