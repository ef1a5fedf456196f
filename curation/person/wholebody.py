"""COCO-WholeBody keypoint layout (133 points, the order DWPose outputs).

Indices: 0-16 body (COCO), 17-22 feet, 23-90 face (68 landmarks), 91-111 left hand, 112-132 right hand (21 each).
"Left" and "right" are the person's own sides.
"""

from __future__ import annotations

NUM_KEYPOINTS = 133

BODY_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
FOOT_NAMES: tuple[str, ...] = (
    "left_big_toe",
    "left_small_toe",
    "left_heel",
    "right_big_toe",
    "right_small_toe",
    "right_heel",
)
HAND_JOINT_NAMES: tuple[str, ...] = (
    "wrist",
    *(f"{finger}_{joint}" for finger in ("thumb", "index", "middle", "ring", "pinky") for joint in (1, 2, 3, 4)),
)

BODY = slice(0, 17)
FEET = slice(17, 23)
FACE = slice(23, 91)
LEFT_HAND = slice(91, 112)
RIGHT_HAND = slice(112, 133)

KEYPOINT_NAMES: tuple[str, ...] = (
    *BODY_NAMES,
    *FOOT_NAMES,
    *(f"face_{i}" for i in range(68)),
    *(f"left_hand_{n}" for n in HAND_JOINT_NAMES),
    *(f"right_hand_{n}" for n in HAND_JOINT_NAMES),
)
INDEX: dict[str, int] = {name: i for i, name in enumerate(KEYPOINT_NAMES)}

# Limbs of the OpenPose-style body skeleton, as pairs of COCO-WholeBody indices.
BODY_LIMBS: tuple[tuple[int, int], ...] = (
    (5, 6), (5, 7), (7, 9), (6, 8), (8, 10), (5, 11), (6, 12), (11, 12),
    (11, 13), (13, 15), (12, 14), (14, 16), (0, 1), (0, 2), (1, 3), (2, 4),
    (15, 17), (15, 18), (15, 19), (16, 20), (16, 21), (16, 22),
)  # fmt: skip

assert len(KEYPOINT_NAMES) == NUM_KEYPOINTS  # a table error, caught at import
