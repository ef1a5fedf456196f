"""Epipolar error of generated background correspondences under the ground truth's two-view geometry.

For every frame t >= 1, the correspondence of a background point is (x0, x̂t): its ground-truth position in frame 0
and where the tracker found it in the generated frame t. Under the ground truth's fundamental matrix F_t
(x_tᵀ F_t x_0 = 0, estimated from the ground truth's own tracks), its error is the Sampson distance, the first-order
approximation of the geometric (reprojection) distance, reported in pixels (the square root of Sampson's squared
form). It is blind to motion along the epipolar line: it checks that the background moves as a rigid scene seen by
the true camera could, not where exactly.

F_t is not determined when a homography explains the ground truth's correspondences (a planar scene, a camera that
only rotates or zooms, a static camera): any F compatible with that homography fits them. Then the frame falls back
to the homography transfer error |x̂t − H_t x0| under the ground truth's camera homography H_t, and the frame is
counted as a fallback, so a result always says how much of it is epipolar and how much is transfer error. Every clip
of the synthetic source has a planar background, so its frames all fall back.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from curation.motion.camera_estimation import fundamental_matrix

__all__ = ["EpipolarConfig", "EpipolarResult", "epipolar_errors", "homography_transfer_error", "sampson_distance"]


@dataclass(frozen=True)
class EpipolarConfig:
    degenerate_px: float = 1.0  # a ground-truth correspondence within this of the fitted homography is explained by it
    degenerate_ratio: float = 0.9  # F is degenerate when the homography explains at least this share of them
    f_threshold_px: float = 1.0  # MAGSAC threshold of the fundamental matrix fit

    def __post_init__(self) -> None:
        if self.degenerate_px <= 0 or self.f_threshold_px <= 0:
            raise ValueError("degenerate_px and f_threshold_px must be positive")
        if not 0 < self.degenerate_ratio <= 1:
            raise ValueError(f"degenerate_ratio must be in (0, 1], got {self.degenerate_ratio}")


@dataclass(frozen=True)
class EpipolarResult:
    errors: np.ndarray  # [M] float64 pixels, one per valid (frame, point)
    frames: int  # frames t >= 1 with at least one valid point
    fallback_frames: int  # of which scored by homography transfer (degenerate ground-truth geometry)


def _homogeneous(points: np.ndarray) -> np.ndarray:
    return np.concatenate([points, np.ones((len(points), 1))], axis=1)


def sampson_distance(f: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """[M] pixels: √ of the Sampson distance of correspondences x0 [M, 2] -> x1 [M, 2] under F (x1ᵀ F x0 = 0)."""
    p0, p1 = _homogeneous(np.asarray(x0, np.float64)), _homogeneous(np.asarray(x1, np.float64))
    f = np.asarray(f, np.float64)
    line1 = p0 @ f.T  # epipolar lines in frame 1: F x0
    line0 = p1 @ f  # epipolar lines in frame 0: Fᵀ x1
    algebraic = np.sum(p1 * line1, axis=1)
    denominator = line1[:, 0] ** 2 + line1[:, 1] ** 2 + line0[:, 0] ** 2 + line0[:, 1] ** 2
    return np.abs(algebraic) / np.sqrt(np.maximum(denominator, 1e-300))


def homography_transfer_error(h: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """[M] pixels: |x1 − H x0|."""
    mapped = _homogeneous(np.asarray(x0, np.float64)) @ np.asarray(h, np.float64).T
    return np.linalg.norm(mapped[:, :2] / mapped[:, 2:3] - x1, axis=1)


def _degenerate(x0: np.ndarray, xt: np.ndarray, config: EpipolarConfig) -> bool:
    """Whether one homography explains the ground truth's correspondences (then F is not determined)."""
    if len(x0) < 8:
        return True
    h, _ = cv2.findHomography(x0, xt, cv2.RANSAC, config.degenerate_px, maxIters=2000, confidence=0.999)
    if h is None:
        return False
    residual = homography_transfer_error(h, x0, xt)
    return float(np.mean(residual <= config.degenerate_px)) >= config.degenerate_ratio


def epipolar_errors(
    predicted: np.ndarray,
    truth_tracks: np.ndarray,
    truth_visible: np.ndarray,
    truth_homographies: np.ndarray,
    valid: np.ndarray,
    config: EpipolarConfig | None = None,
) -> EpipolarResult:
    """Errors of the generated correspondences (truth_tracks[0], predicted[t]) over `valid` [T, N] points.

    `predicted` [T, N, 2] are the generated video's tracks of the ground truth's queries; `truth_tracks`,
    `truth_visible` and `truth_homographies` are the ground truth's (the same N points and T frames).
    """
    config = config or EpipolarConfig()
    predicted = np.asarray(predicted, np.float64)
    truth_tracks = np.asarray(truth_tracks, np.float64)
    errors: list[np.ndarray] = []
    frames = fallback = 0
    for t in range(1, len(predicted)):
        points = valid[t]
        if not points.any():
            continue
        frames += 1
        x0, x_hat = truth_tracks[0, points], predicted[t, points]
        both = truth_visible[0] & truth_visible[t]
        f = None
        if not _degenerate(truth_tracks[0, both], truth_tracks[t, both], config):
            f, _ = fundamental_matrix(truth_tracks, truth_visible, 0, t, config.f_threshold_px)
        if f is None:
            fallback += 1
            errors.append(homography_transfer_error(truth_homographies[t], x0, x_hat))
        else:
            errors.append(sampson_distance(f, x0, x_hat))
    return EpipolarResult(np.concatenate(errors) if errors else np.zeros(0), frames, fallback)
