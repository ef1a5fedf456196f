"""Summable feature statistics: n, Σx and Σxxᵀ in float64, tagged with the protocol view they were made under.

Sums (rather than a running mean and covariance) make the state exactly mergeable: the statistics of two halves added
together are the statistics of the whole, whatever the order, which is what distributed or resumed scoring needs.
Stored as `.npz` files read with `allow_pickle=False`; the file name carries the protocol name (clean-fid's habit) and
the contents carry the full protocol view, which is checked on load.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from benchmark.protocol import ProtocolMismatchError, require_same_view

__all__ = ["STATS_FORMAT", "FeatureStats", "feature_sums", "load_stats", "save_stats", "stats_path"]

STATS_FORMAT = 1


def feature_sums(features: npt.ArrayLike, dim: int) -> tuple[int, np.ndarray, np.ndarray]:
    """(rows, Σx, Σxxᵀ) in float64 of a batch of feature rows [B, dim]: what the batch adds to summable statistics.
    Rows with NaN or infinity are refused: they would poison the sums."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"features must have shape [B, {dim}], got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("features contain NaN or infinite values (a broken input video or weights file?)")
    return x.shape[0], x.sum(axis=0), x.T @ x


@dataclass
class FeatureStats:
    """n, Σx, Σxxᵀ of feature vectors of one dimension, under one protocol view (a metric's `view_json`)."""

    dim: int
    view: str  # JSON of the protocol view; "" only for untagged scratch statistics
    n: int = 0
    total: np.ndarray = field(default=None)  # type: ignore[assignment]
    outer: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.dim < 1:
            raise ValueError(f"dim must be >= 1, got {self.dim}")
        if self.total is None:
            self.total = np.zeros(self.dim, dtype=np.float64)
        if self.outer is None:
            self.outer = np.zeros((self.dim, self.dim), dtype=np.float64)
        if self.total.shape != (self.dim,) or self.outer.shape != (self.dim, self.dim):
            raise ValueError(f"state shapes {self.total.shape}, {self.outer.shape} do not match dim {self.dim}")

    @property
    def protocol(self) -> str:
        return json.loads(self.view)["protocol"] if self.view else ""

    @property
    def metric(self) -> str:
        return json.loads(self.view)["metric"] if self.view else ""

    def update(self, features: npt.ArrayLike) -> None:
        """Add a batch of feature rows [B, dim] (see `feature_sums`)."""
        n, total, outer = feature_sums(features, self.dim)
        self.n += n
        self.total += total
        self.outer += outer

    def merge(self, other: FeatureStats) -> None:
        """Add `other`'s state into this one (same dimension and protocol view required)."""
        if other.dim != self.dim:
            raise ValueError(f"cannot merge statistics of dimension {other.dim} into {self.dim}")
        require_same_view(other.view, self.view, what="statistics being merged")
        self.n += other.n
        self.total += other.total
        self.outer += other.outer

    def __add__(self, other: FeatureStats) -> FeatureStats:
        out = self.copy()
        out.merge(other)
        return out

    def copy(self) -> FeatureStats:
        return FeatureStats(self.dim, self.view, self.n, self.total.copy(), self.outer.copy())

    def mean(self) -> np.ndarray:
        if self.n < 1:
            raise ValueError("no features accumulated yet")
        return self.total / self.n

    def covariance(self) -> np.ndarray:
        """Unbiased sample covariance (divides by n − 1, as numpy.cov and pytorch-fid)."""
        if self.n < 2:
            raise ValueError(f"a covariance needs at least 2 feature vectors, have {self.n}")
        mu = self.mean()
        cov = (self.outer - self.n * np.outer(mu, mu)) / (self.n - 1)
        return 0.5 * (cov + cov.T)


def stats_path(folder: str | Path, dataset: str, protocol: str, metric: str) -> Path:
    """Where reference statistics live: `{dataset}.{protocol}.{metric}.npz` (the protocol name in the file name)."""
    for part, what in ((dataset, "dataset"), (protocol, "protocol"), (metric, "metric")):
        if not part or any(c in part for c in "./\\ "):
            raise ValueError(f"{what} name {part!r} must be non-empty without dots, slashes or spaces")
    return Path(folder) / f"{dataset}.{protocol}.{metric}.npz"


def save_stats(stats: FeatureStats, path: str | Path) -> Path:
    if not stats.view:
        raise ValueError("refusing to save statistics without a protocol view")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        path,
        format=np.int64(STATS_FORMAT),
        protocol=np.str_(stats.protocol),
        metric=np.str_(stats.metric),
        view=np.str_(stats.view),
        n=np.int64(stats.n),
        total=stats.total,
        outer=stats.outer,
    )
    return path


def load_stats(path: str | Path, *, expected_view: str | None = None) -> FeatureStats:
    """Load statistics saved by `save_stats`; with `expected_view`, refuse those made under another protocol view."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no statistics file at {path}")
    with np.load(path, allow_pickle=False) as data:
        missing = {"format", "protocol", "view", "n", "total", "outer"} - set(data.files)
        if missing:
            raise ValueError(f"{path} is not a backdrop statistics file (missing {sorted(missing)})")
        if int(data["format"]) != STATS_FORMAT:
            raise ValueError(f"{path}: statistics format {int(data['format'])} is not {STATS_FORMAT}")
        view = str(data["view"])
        total = np.asarray(data["total"], dtype=np.float64)
        stats = FeatureStats(total.shape[0], view, int(data["n"]), total, np.asarray(data["outer"], dtype=np.float64))
    if str(json.loads(view).get("protocol")) not in path.name:
        raise ProtocolMismatchError(f"{path}: file name does not carry its protocol name {stats.protocol!r}")
    if expected_view is not None:
        require_same_view(view, expected_view, what=f"reference statistics {path}")
    return stats
