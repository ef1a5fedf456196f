"""Bootstrap intervals over videos for per-video metrics.

A leaderboard number is a mean over videos; how far it could move with another draw of videos of the same kind is
the percentile bootstrap interval of that mean: resample the videos with replacement, take each resample's mean, and
read the interval from their quantiles. Resamples are drawn from a seeded generator, so an interval is reproducible.
Set-level metrics (the Fréchet distances) have no per-video values and get no interval here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

__all__ = ["Interval", "bootstrap_interval"]


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    level: float
    resamples: int
    method: str = "percentile bootstrap of the mean over videos"

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "interval_low": self.low,
            "interval_high": self.high,
            "interval_level": self.level,
            "interval_resamples": self.resamples,
            "interval_method": self.method,
        }


def bootstrap_interval(
    values: Iterable[float], *, level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> Interval | None:
    """The `level` percentile-bootstrap interval of the mean of `values` (one per video); None for fewer than two
    videos (one video says nothing about another draw)."""
    x = np.asarray(list(values), dtype=np.float64)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if resamples < 100:
        raise ValueError(f"resamples must be >= 100, got {resamples}")
    if not np.all(np.isfinite(x)):
        raise ValueError("bootstrap: values must be finite")
    if x.size < 2:
        return None
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return Interval(float(low), float(high), level, resamples)
