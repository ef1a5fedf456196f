"""Camera motion estimated from background tracks: per-frame homographies frame 0 -> t with a robust estimator,
the clip label and magnitude (vocabulary and decomposition in `curation.motion.camera_labels`), tracks that no
homography explains, and the fundamental matrix between any two frames.

`dynamic` is the label when no single homography explains the background: the median inlier ratio over the clip's
frames falls below `min_inlier_ratio` (a crowd, water, a strongly three-dimensional scene seen by a moving camera).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from curation.motion import camera_labels as cm


@dataclass(frozen=True)
class CameraConfig:
    method: str = "magsac"  # "magsac" (cv2.USAC_MAGSAC) or "ransac"
    reprojection_px: float = 1.5  # inlier threshold of the robust estimator
    min_points: int = 8  # fewer correspondences in a frame: that frame's homography is carried from the previous
    min_inlier_ratio: float = 0.5  # median inlier ratio below which the clip is "dynamic"
    outlier_px: float = 3.0  # a track farther than this from the frame's homography moves on its own

    def __post_init__(self) -> None:
        if self.method not in ("magsac", "ransac"):
            raise ValueError(f"method must be 'magsac' or 'ransac', got {self.method!r}")
        if self.min_points < 4:
            raise ValueError(f"a homography needs at least 4 points, min_points={self.min_points}")
        if not 0 <= self.min_inlier_ratio <= 1:
            raise ValueError(f"min_inlier_ratio must be in [0, 1], got {self.min_inlier_ratio}")


@dataclass(frozen=True)
class CameraEstimate:
    homographies: np.ndarray  # [T, 3, 3] float32, frame 0 -> t, identity at t = 0
    inlier_ratio: np.ndarray  # [T] float (1 at t = 0; NaN where the frame had too few points)
    consistent: np.ndarray  # [T, N] bool: the track is within `outlier_px` of the frame's homography
    label: str
    magnitude: float  # mean corner speed, pixels per frame
    failed_frames: int  # frames whose homography was carried from the previous frame


def _flag(method: str) -> int:
    return cv2.USAC_MAGSAC if method == "magsac" else cv2.RANSAC


def _project(h: np.ndarray, points: np.ndarray) -> np.ndarray:
    homog = np.concatenate([points, np.ones((len(points), 1))], axis=1) @ h.T
    return homog[:, :2] / homog[:, 2:3]


def estimate_camera(
    positions: np.ndarray, mask: np.ndarray, size: tuple[int, int], config: CameraConfig | None = None
) -> CameraEstimate:
    """Homographies taking frame-0 positions of the tracks to frame t, from the tracks kept in `mask` [T, N].

    `positions` is [T, N, 2] in pixels; `size` is (width, height).
    """
    config = config or CameraConfig()
    positions = np.asarray(positions, np.float64)
    if positions.ndim != 3 or positions.shape[2] != 2 or mask.shape != positions.shape[:2]:
        raise ValueError(f"positions must be [T, N, 2] and mask [T, N], got {positions.shape} and {mask.shape}")
    frames, n = mask.shape
    homographies = np.tile(np.eye(3), (frames, 1, 1))
    ratio = np.full(frames, np.nan)
    ratio[0] = 1.0
    consistent = np.zeros((frames, n), bool)
    consistent[0] = mask[0]
    failed = 0
    for t in range(1, frames):
        both = mask[0] & mask[t]
        h = None
        if both.sum() >= config.min_points:
            src, dst = positions[0, both], positions[t, both]
            h, inliers = cv2.findHomography(
                src, dst, _flag(config.method), config.reprojection_px, maxIters=2000, confidence=0.999
            )
            if h is not None:
                ratio[t] = float(inliers.mean())
        if h is None:
            homographies[t] = homographies[t - 1]
            failed += 1
            continue
        homographies[t] = h / h[2, 2]
        residual = np.linalg.norm(_project(homographies[t], positions[0]) - positions[t], axis=1)
        consistent[t] = mask[t] & (residual <= config.outlier_px)
    # A query whose frame-0 position is never consistent later is not a background point at frame 0 either.
    consistent[0] &= consistent[1:].any(axis=0) if frames > 1 else True
    valid = ratio[1:][np.isfinite(ratio[1:])]
    if frames > 1 and (len(valid) == 0 or float(np.median(valid)) < config.min_inlier_ratio):
        label = cm.DYNAMIC
    else:
        label = cm.label_camera_motion(homographies, size)
    return CameraEstimate(
        homographies.astype(np.float32), ratio, consistent, label, cm.camera_magnitude(homographies, size), failed
    )


def corner_error(estimated: np.ndarray, truth: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """[T] mean distance in pixels between the image corners mapped by two sets of homographies."""
    width, height = size
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    errors = []
    for h_est, h_true in zip(np.asarray(estimated, np.float64), np.asarray(truth, np.float64), strict=True):
        errors.append(float(np.linalg.norm(_project(h_est, corners) - _project(h_true, corners), axis=1).mean()))
    return np.array(errors)


def fundamental_matrix(
    positions: np.ndarray, visible: np.ndarray, i: int, j: int, threshold_px: float = 1.0
) -> tuple[np.ndarray | None, np.ndarray]:
    """The fundamental matrix F (x_j^T F x_i = 0) between frames i and j from the tracks visible in both, with
    MAGSAC; returns (F or None when it cannot be estimated, inlier mask over the tracks [N]).

    Needs 8 correspondences; with a pure rotation or a planar scene F is degenerate, which is why the camera
    label comes from homographies and F serves epipolar constraints (AnimateAnywhere's epipolar mask).
    """
    frames, n = visible.shape
    if not (0 <= i < frames and 0 <= j < frames):
        raise ValueError(f"frames {i} and {j} must lie in [0, {frames})")
    both = visible[i] & visible[j]
    inliers = np.zeros(n, bool)
    if both.sum() < 8:
        return None, inliers
    f, mask = cv2.findFundamentalMat(
        positions[i, both].astype(np.float64),
        positions[j, both].astype(np.float64),
        cv2.USAC_MAGSAC,
        threshold_px,
        0.999,
        2000,
    )
    if f is None or f.shape != (3, 3):
        return None, inliers
    inliers[np.flatnonzero(both)] = mask.ravel().astype(bool)
    return f, inliers
