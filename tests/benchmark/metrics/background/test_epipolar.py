"""The epipolar error: Sampson distance under a three-dimensional scene, homography transfer on a planar one."""

from __future__ import annotations

import numpy as np

from benchmark.metrics.background.epipolar import epipolar_errors, sampson_distance


def _two_views(rng: np.random.Generator, planar: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points seen by a camera at the origin and by one moved sideways: tracks [2, N, 2], visible, H (unused)."""
    n, focal, centre = 200, 300.0, 128.0
    xyz = np.c_[rng.uniform(-2, 2, (n, 2)), np.full(n, 6.0) if planar else rng.uniform(4, 12, n)]

    def project(points: np.ndarray) -> np.ndarray:
        return focal * points[:, :2] / points[:, 2:3] + centre

    moved = xyz - np.array([0.6, 0.1, 0.3])
    tracks = np.stack([project(xyz), project(moved)])
    return tracks, np.ones((2, n), bool), np.tile(np.eye(3), (2, 1, 1))


def test_sampson_distance_under_a_three_dimensional_scene():
    rng = np.random.default_rng(0)
    tracks, visible, identity = _two_views(rng, planar=False)
    valid = visible.copy()
    valid[0] = False
    exact = epipolar_errors(tracks, tracks, visible, identity, valid)
    assert exact.fallback_frames == 0 and exact.frames == 1
    assert np.median(exact.errors) < 0.05
    # Off the epipolar line by 3 px in frame 1 the error is of that order; the GT's F is estimated from its tracks.
    from curation.motion.camera_estimation import fundamental_matrix

    f, _ = fundamental_matrix(tracks, visible, 0, 1)
    line = np.c_[tracks[0], np.ones(len(tracks[0]))] @ f.T
    normal = line[:, :2] / np.linalg.norm(line[:, :2], axis=1, keepdims=True)
    off = tracks.copy()
    off[1] += 3.0 * normal
    errors = sampson_distance(f, off[0], off[1])
    assert 1.0 < np.median(errors) <= 3.0 + 1e-6
    along = tracks.copy()
    along[1] += 5.0 * normal[:, ::-1] * [1, -1]  # along the line: the epipolar error cannot see it
    assert np.median(sampson_distance(f, along[0], along[1])) < 0.05


def test_planar_scene_falls_back_to_homography_transfer():
    tracks, visible, _ = _two_views(np.random.default_rng(1), planar=True)
    import cv2

    h, _ = cv2.findHomography(tracks[0], tracks[1])
    shifted = tracks.copy()
    shifted[1] += [2.0, 0.0]
    valid = visible.copy()
    valid[0] = False
    result = epipolar_errors(shifted, tracks, visible, np.stack([np.eye(3), h]), valid)
    assert result.fallback_frames == result.frames == 1
    np.testing.assert_allclose(result.errors, 2.0, atol=1e-4)  # H fitted in float: ~1e-6 px
