"""The sidecar pose source: validation, ordering, mapping to clip frames and pixels."""

from __future__ import annotations

import numpy as np
import pytest

from curation.person.pose_sidecar import SidecarPose, sort_by_area, validate_keypoints


def test_sidecar_maps_frames_and_pixels(tmp_path, small_corpus):
    clip = small_corpus[0]
    path = tmp_path / "pose.npz"
    np.savez(path, keypoints=clip["gt"]["keypoints"])
    source = SidecarPose(path, (512, 512))
    half = clip["rgb"][::2, ::2, ::2]  # a clip at half size, every other frame
    frames = np.arange(0, len(clip["rgb"]), 2)
    mapped = source.estimate(half, frames)
    expected = clip["gt"]["keypoints"][frames]
    np.testing.assert_allclose(mapped[..., :2], expected[..., :2] * 0.5, atol=1e-4)
    np.testing.assert_array_equal(mapped[..., 2], expected[..., 2])
    with pytest.raises(ValueError):
        source.estimate(half, np.array([len(clip["rgb"])]))


def test_validation_and_order():
    keypoints = np.zeros((2, 2, 133, 3), np.float32)
    keypoints[:, 0, :2, :2] = [[0, 0], [10, 10]]
    keypoints[:, 1, :2, :2] = [[0, 0], [50, 50]]
    keypoints[..., :2, 2] = 1.0
    keypoints[0, 0, 5] = [np.nan, 1.0, 1.0]
    valid = validate_keypoints(keypoints)
    assert valid[0, 0, 5, 2] == 0.0
    ordered = sort_by_area(valid)
    assert ordered[0, 0, 1, 0] == 50  # the larger person first
    with pytest.raises(ValueError):
        validate_keypoints(np.zeros((2, 1, 17, 3)))
    bad = keypoints.copy()
    bad[0, 0, 0, 2] = 2.0
    with pytest.raises(ValueError):
        validate_keypoints(bad)
