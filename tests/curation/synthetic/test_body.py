from __future__ import annotations

import numpy as np

from curation.person import wholebody as wb
from curation.synthetic.body import BodyShape, PoseSequence, forward_kinematics
from curation.synthetic.motions import MOTIONS, animate


def test_layout_has_133_named_keypoints() -> None:
    assert len(wb.KEYPOINT_NAMES) == 133 and len(set(wb.KEYPOINT_NAMES)) == 133
    assert wb.KEYPOINT_NAMES[wb.LEFT_HAND.start] == "left_hand_wrist"
    assert wb.INDEX["right_heel"] == 22


def test_a_person_facing_the_camera_has_their_left_on_screen_right() -> None:
    pose = PoseSequence.rest(2)
    pose.yaw[1] = np.pi  # turned away: their left is on screen left
    kp = forward_kinematics(BodyShape(), pose).keypoints
    left, right = wb.INDEX["left_shoulder"], wb.INDEX["right_shoulder"]
    assert kp[0, left, 0] > kp[0, right, 0]
    assert kp[1, left, 0] < kp[1, right, 0]
    # Standing at rest: ankles are a pelvis height below the hips, the head above the shoulders.
    assert kp[0, wb.INDEX["left_ankle"], 1] < kp[0, wb.INDEX["left_hip"], 1] - 0.4
    assert kp[0, wb.INDEX["nose"], 1] > kp[0, left, 1]


def test_every_motion_keeps_bone_lengths() -> None:
    shape = BodyShape()
    times = np.arange(24) / 24
    for motion in MOTIONS:
        kp = forward_kinematics(shape, animate(motion, times, np.random.default_rng(0))).keypoints
        thigh = np.linalg.norm(kp[:, wb.INDEX["left_knee"]] - kp[:, wb.INDEX["left_hip"]], axis=1)
        forearm = np.linalg.norm(kp[:, wb.INDEX["right_wrist"]] - kp[:, wb.INDEX["right_elbow"]], axis=1)
        np.testing.assert_allclose(thigh, shape.thigh, rtol=1e-9)
        np.testing.assert_allclose(forearm, shape.forearm, rtol=1e-9)
        assert np.ptp(kp[..., :2], axis=0).max() > 0.02, motion  # the motion moves something
