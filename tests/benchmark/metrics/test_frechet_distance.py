"""Fréchet distance against closed forms for Gaussians, and against the scipy sqrtm route.

The 2048-d comparison with the sqrtm route runs in `python -m jobs.bench.frechet_speed` (reports/), which
records the relative difference beside the timings; here it is checked up to 1024-d to keep the suite fast.
"""

from __future__ import annotations

import numpy as np
import pytest

from benchmark.metrics.frechet_distance import frechet_distance, frechet_distance_sqrtm, trace_sqrt_product


def _orthogonal(rng: np.random.Generator, d: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.sign(np.diag(r))


def _commuting_case(d: int, rank1: int, rank2: int, seed: int):
    """Σ1 = Q diag(a) Qᵀ, Σ2 = Q diag(b) Qᵀ: d² = |Δμ|² + Σ (√a − √b)², zeros in a and b make them rank-deficient."""
    rng = np.random.default_rng(seed)
    q = _orthogonal(rng, d)
    a = rng.uniform(0.1, 3.0, d)
    b = rng.uniform(0.1, 3.0, d)
    a[rank1:] = 0.0
    b[: d - rank2] = 0.0  # b's null space overlaps a's range only partly
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    exact = float(np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2))
    return mu1, (q * a) @ q.T, mu2, (q * b) @ q.T, exact


def _transport_case(d: int, rank: int, seed: int):
    """Σ2 = T Σ1 T with T symmetric positive definite (Σ1 and Σ2 do not commute): then
    (Σ1^½ Σ2 Σ1^½)^½ = Σ1^½ T Σ1^½, so d² = |Δμ|² + tr Σ1 + tr Σ2 − 2 tr(T Σ1) exactly, also when rank Σ1 < d."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((d, rank))
    s1 = x @ x.T / rank
    q = _orthogonal(rng, d)
    t = (q * rng.uniform(0.5, 2.0, d)) @ q.T
    s2 = t @ s1 @ t
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    exact = float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(t @ s1))
    return mu1, s1, mu2, s2, exact


def _rel(value: float, exact: float) -> float:
    return abs(value - exact) / abs(exact)


@pytest.mark.parametrize(
    ("d", "rank1", "rank2"),
    [(64, 64, 64), (64, 20, 50), (256, 256, 100), (512, 100, 300), (1024, 1024, 1024), (1024, 300, 1000)],
)
def test_commuting_closed_form(d: int, rank1: int, rank2: int) -> None:
    mu1, s1, mu2, s2, exact = _commuting_case(d, rank1, rank2, seed=d + rank1)
    assert _rel(frechet_distance(mu1, s1, mu2, s2), exact) <= 1e-6


@pytest.mark.parametrize(("d", "rank"), [(64, 64), (64, 16), (256, 256), (512, 128), (1024, 400)])
def test_noncommuting_closed_form(d: int, rank: int) -> None:
    mu1, s1, mu2, s2, exact = _transport_case(d, rank, seed=d * 7 + rank)
    assert _rel(frechet_distance(mu1, s1, mu2, s2), exact) <= 1e-6


@pytest.mark.slow
def test_closed_form_2048_rank_deficient() -> None:
    mu1, s1, mu2, s2, exact = _transport_case(2048, 300, seed=1)
    assert _rel(frechet_distance(mu1, s1, mu2, s2), exact) <= 1e-6


@pytest.mark.parametrize(("d", "rank"), [(64, 64), (256, 60), (1024, 1024)])
def test_agrees_with_sqrtm_route(d: int, rank: int) -> None:
    mu1, s1, mu2, s2, exact = _transport_case(d, rank, seed=d + 11 * rank)
    ours, ref = frechet_distance(mu1, s1, mu2, s2), frechet_distance_sqrtm(mu1, s1, mu2, s2)
    assert _rel(ours, ref) <= 1e-6
    # and ours is at least as close to the truth as the reference route
    assert _rel(ours, exact) <= max(_rel(ref, exact), 1e-12)


def test_identical_gaussians_give_zero_even_when_singular() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((512, 40)) * 10.0  # rank 40 in 512 dimensions, large scale
    s = x @ x.T
    mu = rng.standard_normal(512)
    assert frechet_distance(mu, s, mu, s) <= 1e-6
    # the raw trace term, before clipping at zero, matches tr Σ to 1e-12 relative
    assert abs(trace_sqrt_product(s, s) - np.trace(s)) <= 1e-12 * np.trace(s)


def test_zero_covariances_leave_the_mean_term() -> None:
    z = np.zeros((8, 8))
    assert frechet_distance(np.ones(8), z, np.zeros(8), z) == pytest.approx(8.0, rel=1e-15)


def test_rejects_bad_shapes_and_nan() -> None:
    eye = np.eye(4)
    with pytest.raises(ValueError, match="shapes do not match"):
        frechet_distance(np.zeros(4), eye, np.zeros(3), np.eye(3))
    bad = eye.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="sigma2 contains NaN"):
        frechet_distance(np.zeros(4), eye, np.zeros(4), bad)
