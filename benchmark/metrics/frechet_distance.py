"""Fréchet distance between two Gaussians, in float64.

    d² = |μ1 − μ2|² + tr Σ1 + tr Σ2 − 2 tr (Σ1^½ Σ2 Σ1^½)^½

The usual route (pytorch-fid, StyleGAN-V) takes `scipy.linalg.sqrtm(Σ1 Σ2)`: Σ1 Σ2 is not symmetric, sqrtm works
through a complex Schur form, and with rank-deficient covariances (fewer videos than feature dimensions, the normal
case for FVD on a few hundred clips) it returns complex parts and loses digits. Here the trace term goes through
symmetric eigendecompositions instead: Σ1 = H1 H1ᵀ and Σ2 = H2 H2ᵀ from `eigh`, and the trace is the sum of the singular
values of H2ᵀ H1 (see `trace_sqrt_product`). Eigenvalues that are negative or below the numerical noise floor
(rounding makes exact zeros come out as ±1e-16·λmax) are set to zero before the square root: the square root would
otherwise turn each of those ~d noise values into ~1e-8·√λmax and their sum would dominate the error.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import linalg

__all__ = [
    "frechet_distance",
    "frechet_distance_sqrtm",
    "noise_floor",
    "trace_sqrt_product",
]

ArrayLike = npt.ArrayLike


def noise_floor(eigenvalues: np.ndarray) -> float:
    """The magnitude below which an eigenvalue of a PSD matrix is indistinguishable from zero.

    The same tolerance numpy's `matrix_rank` uses: dimension times machine epsilon times the largest eigenvalue.
    """
    if eigenvalues.size == 0:
        return 0.0
    largest = float(np.max(np.abs(eigenvalues)))
    return eigenvalues.size * np.finfo(np.float64).eps * largest


def _check_pair(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> None:
    if mu1.ndim != 1 or mu2.ndim != 1:
        raise ValueError(f"means must be vectors, got shapes {mu1.shape} and {mu2.shape}")
    d = mu1.shape[0]
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"shapes do not match: mu1 {mu1.shape}, sigma1 {sigma1.shape}, mu2 {mu2.shape}, sigma2 {sigma2.shape}"
        )
    for name, arr in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values")


def _symmetrize(a: np.ndarray) -> np.ndarray:
    # Covariances accumulated from sums are symmetric only up to rounding; eigh reads one triangle, so make both agree.
    return 0.5 * (a + a.T)


def _range_factor(sigma: np.ndarray) -> np.ndarray:
    """H with Σ = H Hᵀ, keeping only the eigenvectors whose eigenvalues are above the noise floor."""
    w, v = linalg.eigh(sigma)
    keep = w > noise_floor(w)
    return v[:, keep] * np.sqrt(w[keep])


def trace_sqrt_product(sigma1: ArrayLike, sigma2: ArrayLike) -> float:
    """tr (Σ1^½ Σ2 Σ1^½)^½ for symmetric positive semi-definite Σ1, Σ2 (rank-deficient allowed).

    With Σi = Hi Hiᵀ (Hi = Vi Wi^½ from `eigh`, restricted to the range), Σ1^½ Σ2 Σ1^½ = (H2ᵀ H1)ᵀ (H2ᵀ H1) up to
    orthogonal factors, so the trace of its square root is the sum of the singular values of H2ᵀ H1. Singular values
    carry an absolute error of ε·σmax, whereas square roots of eigenvalues of the product carry √ε·σmax: this is
    what keeps identical sets at zero to ~1e-12 relative even when Σ is singular.
    """
    s1 = _symmetrize(np.asarray(sigma1, dtype=np.float64))
    s2 = _symmetrize(np.asarray(sigma2, dtype=np.float64))
    h1 = _range_factor(s1)
    h2 = _range_factor(s2)
    if h1.shape[1] == 0 or h2.shape[1] == 0:
        return 0.0
    return float(np.sum(linalg.svd(h2.T @ h1, compute_uv=False)))


def _as_checked_pair(
    mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    m1, s1 = np.asarray(mu1, dtype=np.float64), np.asarray(sigma1, dtype=np.float64)
    m2, s2 = np.asarray(mu2, dtype=np.float64), np.asarray(sigma2, dtype=np.float64)
    _check_pair(m1, s1, m2, s2)
    return m1, s1, m2, s2


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike) -> float:
    """Fréchet (2-Wasserstein) distance squared between N(mu1, sigma1) and N(mu2, sigma2), in float64.

    Returns 0.0 rather than a tiny negative number when rounding pushes an exact zero below zero.
    """
    m1, s1, m2, s2 = _as_checked_pair(mu1, sigma1, mu2, sigma2)
    diff = m1 - m2
    value = float(diff @ diff) + float(np.trace(s1)) + float(np.trace(s2)) - 2.0 * trace_sqrt_product(s1, s2)
    return max(value, 0.0)


def frechet_distance_sqrtm(
    mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike, sigma2: ArrayLike, *, eps: float = 1e-6
) -> float:
    """The reference route of pytorch-fid and StyleGAN-V: `scipy.linalg.sqrtm(Σ1 Σ2)`, real part of its trace.

    Kept for comparison (tests and the speed report); `frechet_distance` is the one backdrop uses.
    """
    m1, s1, m2, s2 = _as_checked_pair(mu1, sigma1, mu2, sigma2)
    diff = m1 - m2
    covmean = linalg.sqrtm(s1 @ s2)
    if not np.all(np.isfinite(covmean)):
        # pytorch-fid's fallback for a singular product: nudge both diagonals.
        offset = np.eye(s1.shape[0]) * eps
        covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))
