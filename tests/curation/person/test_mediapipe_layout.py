"""MediaPipe's landmarks onto COCO-WholeBody 133, checked against constructed landmarks whose positions encode
their own index (so a point landing in the wrong slot shows which one it was)."""

from __future__ import annotations

import numpy as np
import pytest

from curation.person import mediapipe_layout as layout
from curation.person import wholebody as wb


def _indexed(count: int, base: float) -> np.ndarray:
    """Landmark i at (base + i, 1000 + base + i) with confidence 0.5 + i / (4 count): every point distinct."""
    i = np.arange(count, dtype=np.float32)
    return np.stack([base + i, 1000 + base + i, 0.5 + i / (4 * count)], axis=1)


def test_body_and_feet_come_from_the_named_blazepose_landmarks() -> None:
    pose = _indexed(33, 0.0)
    out = layout.wholebody_from_landmarks(pose)
    names = {  # COCO-WholeBody name -> BlazePose landmark of the same body part (BlazePose's published order)
        "nose": 0, "left_eye": 2, "right_eye": 5, "left_ear": 7, "right_ear": 8, "left_shoulder": 11,
        "right_shoulder": 12, "left_elbow": 13, "right_elbow": 14, "left_wrist": 15, "right_wrist": 16,
        "left_hip": 23, "right_hip": 24, "left_knee": 25, "right_knee": 26, "left_ankle": 27, "right_ankle": 28,
        "left_big_toe": 31, "left_heel": 29, "right_big_toe": 32, "right_heel": 30,
    }  # fmt: skip
    for name, landmark in names.items():
        np.testing.assert_array_equal(out[wb.INDEX[name]], pose[landmark], err_msg=name)
    for name in ("left_small_toe", "right_small_toe"):  # BlazePose has no small toe
        assert out[wb.INDEX[name], 2] == 0.0


def test_face_and_hands_fill_their_slots_and_131_points_are_given() -> None:
    pose, face = _indexed(33, 0.0), _indexed(468, 100.0)
    left, right = _indexed(21, 700.0), _indexed(21, 800.0)
    out = layout.wholebody_from_landmarks(pose, face=face, left_hand=left, right_hand=right)
    np.testing.assert_array_equal(out[wb.FACE], face[list(layout.FACE_MESH_TO_FACE68)])
    np.testing.assert_array_equal(out[wb.LEFT_HAND], left)  # the hand model's order is COCO-WholeBody's
    np.testing.assert_array_equal(out[wb.RIGHT_HAND], right)
    assert (out[:, 2] > 0).sum() == 131
    assert len(set(layout.FACE_MESH_TO_FACE68)) == 68 and max(layout.FACE_MESH_TO_FACE68) < 468


def test_without_face_and_hands_blazepose_fills_corners_and_wrists_only() -> None:
    pose = _indexed(33, 0.0)
    out = layout.wholebody_from_landmarks(pose)
    face = out[wb.FACE]
    given = {int(i) for i in np.flatnonzero(face[:, 2] > 0)}
    assert given == set(layout.BLAZEPOSE_TO_FACE68.values())
    np.testing.assert_array_equal(face[36], pose[6])  # the person's right eye, outer corner
    np.testing.assert_array_equal(face[54], pose[9])  # the left mouth corner
    np.testing.assert_array_equal(out[wb.LEFT_HAND.start], pose[15])
    assert (out[wb.LEFT_HAND.start + 1 : wb.LEFT_HAND.stop, 2] == 0).all()


def test_hands_go_to_the_nearest_wrist_whatever_their_order() -> None:
    pose = np.zeros((33, 3), np.float32)
    pose[15, :2], pose[16, :2] = (100, 100), (300, 100)  # left wrist at x=100, right at x=300
    near_right, near_left = np.zeros((21, 3), np.float32), np.zeros((21, 3), np.float32)
    near_right[:, :2], near_left[:, :2] = (295, 110), (104, 96)
    left, right = layout.assign_hands([near_right, near_left], pose, max_distance=50)
    assert left is not None and right is not None
    assert left[0, 0] == 104 and right[0, 0] == 295
    far = np.full((21, 3), 1000.0, np.float32)
    assert layout.assign_hands([far], pose, max_distance=50) == (None, None)


def test_wrong_shapes_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="face mesh landmarks must be"):
        layout.wholebody_from_landmarks(np.zeros((33, 3)), face=np.zeros((68, 3)))
