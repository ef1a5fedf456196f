"""MediaPipe's landmarks in the COCO-WholeBody 133-point layout (`curation.person.wholebody`).

BlazePose's 33 landmarks give the 17 body points and 4 of the 6 foot points (big toe from `foot_index`, heel; it
has no small toe); the face mesh's 468 points give the 68 face points (the table below, the usual dlib-68 reading
of the mesh); the hand model's 21 landmarks are in COCO-WholeBody's hand order already. 131 of the 133 points can be
filled; the two small toes never are. Where a part model found nothing, BlazePose's own face points (eye corners,
mouth corners, nose) and wrists fill their face and hand slots, and every other point of that part has confidence 0.

Inputs are arrays of (x, y, confidence) in pixels; "left" and "right" are the person's own sides in both layouts.
"""

from __future__ import annotations

import numpy as np

from curation.person import wholebody as wb

#: BlazePose landmark index -> COCO-WholeBody index (body and feet).
BLAZEPOSE_TO_WHOLEBODY: dict[int, int] = {
    0: 0, 2: 1, 5: 2, 7: 3, 8: 4,  # nose, eyes, ears
    11: 5, 12: 6, 13: 7, 14: 8, 15: 9, 16: 10,  # shoulders, elbows, wrists
    23: 11, 24: 12, 25: 13, 26: 14, 27: 15, 28: 16,  # hips, knees, ankles
    31: 17, 29: 19, 32: 20, 30: 22,  # left big toe (foot index), left heel, right big toe, right heel
}  # fmt: skip

#: Face-68 point (0..67) -> face mesh index: jaw 0-16 (from the person's right), brows 17-26, nose 27-35, eyes
#: 36-47 (right eye first, from its outer corner), outer lips 48-59, inner lips 60-67.
FACE_MESH_TO_FACE68: tuple[int, ...] = (
    127, 234, 93, 132, 58, 136, 150, 176, 152, 400, 379, 365, 288, 361, 323, 454, 356,
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    168, 197, 5, 4, 75, 97, 2, 326, 305,
    33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380,
    61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181,
    78, 82, 13, 312, 308, 317, 14, 87,
)  # fmt: skip

#: Face-68 points BlazePose gives itself (used when the face mesh found no face): eye and mouth corners, nose tip.
BLAZEPOSE_TO_FACE68: dict[int, int] = {6: 36, 4: 39, 1: 42, 3: 45, 10: 48, 9: 54, 0: 30}

#: BlazePose's wrists: (landmark, COCO-WholeBody hand wrist index), left then right.
BLAZEPOSE_WRISTS: tuple[tuple[int, int], ...] = ((15, wb.LEFT_HAND.start), (16, wb.RIGHT_HAND.start))

POSE_LANDMARKS = 33
FACE_MESH_POINTS = 468
HAND_LANDMARKS = 21


def _checked(points: np.ndarray | None, count: int, name: str) -> np.ndarray | None:
    if points is None:
        return None
    points = np.asarray(points, np.float32)
    if points.shape != (count, 3):
        raise ValueError(f"{name} landmarks must be [{count}, 3] (x, y, confidence), got {points.shape}")
    return points


def wholebody_from_landmarks(
    pose: np.ndarray,
    *,
    face: np.ndarray | None = None,
    left_hand: np.ndarray | None = None,
    right_hand: np.ndarray | None = None,
) -> np.ndarray:
    """One person's [133, 3] keypoints from BlazePose's [33, 3] landmarks and, where found, the face mesh's
    [468, 3] and the hands' [21, 3] (x, y in pixels, confidence in [0, 1]). Points no model gives have confidence 0."""
    pose = _checked(pose, POSE_LANDMARKS, "pose")
    face = _checked(face, FACE_MESH_POINTS, "face mesh")
    left_hand = _checked(left_hand, HAND_LANDMARKS, "left hand")
    right_hand = _checked(right_hand, HAND_LANDMARKS, "right hand")
    out = np.zeros((wb.NUM_KEYPOINTS, 3), np.float32)
    source, target = zip(*BLAZEPOSE_TO_WHOLEBODY.items(), strict=True)
    out[list(target)] = pose[list(source)]
    if face is not None:
        out[wb.FACE] = face[list(FACE_MESH_TO_FACE68)]
    else:
        for landmark, point in BLAZEPOSE_TO_FACE68.items():
            out[wb.FACE.start + point] = pose[landmark]
    for hand, (wrist, start) in zip((left_hand, right_hand), BLAZEPOSE_WRISTS, strict=True):
        if hand is not None:
            out[start : start + HAND_LANDMARKS] = hand
        else:
            out[start] = pose[wrist]
    return out


def assign_hands(hands: list[np.ndarray], pose: np.ndarray, max_distance: float) -> tuple[np.ndarray | None, ...]:
    """(left, right): each hand [21, 3] given to the person's wrist nearest its own wrist point, within
    `max_distance` pixels; the hand model's handedness label is not used (it flips on mirrored input)."""
    pose = _checked(pose, POSE_LANDMARKS, "pose")
    assigned: list[np.ndarray | None] = [None, None]
    pairs = []
    for h, hand in enumerate(hands):
        for side, (wrist, _) in enumerate(BLAZEPOSE_WRISTS):
            pairs.append((float(np.linalg.norm(hand[0, :2] - pose[wrist, :2])), h, side))
    used: set[int] = set()
    for distance, h, side in sorted(pairs):
        if distance <= max_distance and h not in used and assigned[side] is None:
            assigned[side] = np.asarray(hands[h], np.float32)
            used.add(h)
    return assigned[0], assigned[1]
