"""The OpenPose-style skeleton image that AnimateAnyone's pose guider consumes (as DWPose's `draw_pose` makes it):
black background; the 18-point OpenPose body (COCO's 17 plus a neck between the shoulders) as coloured ellipses at
60% opacity and coloured joint discs; hand bones in rainbow colours with joint dots; face landmarks as white dots."""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

from curation.person import wholebody as wb

# OpenPose body order from COCO-WholeBody indices; -1 is the neck (mid-shoulders).
OPENPOSE_FROM_COCO = (0, -1, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)
# OpenPose's 17 limbs over its 18 points, and its 18 colours (RGB).
OPENPOSE_LIMBS = (
    (1, 2),
    (1, 5),
    (2, 3),
    (3, 4),
    (5, 6),
    (6, 7),
    (1, 8),
    (8, 9),
    (9, 10),
    (1, 11),
    (11, 12),
    (12, 13),
    (1, 0),
    (0, 14),
    (14, 16),
    (0, 15),
    (15, 17),
)
OPENPOSE_COLOURS = (
    (255, 0, 0),
    (255, 85, 0),
    (255, 170, 0),
    (255, 255, 0),
    (170, 255, 0),
    (85, 255, 0),
    (0, 255, 0),
    (0, 255, 85),
    (0, 255, 170),
    (0, 255, 255),
    (0, 170, 255),
    (0, 85, 255),
    (0, 0, 255),
    (85, 0, 255),
    (170, 0, 255),
    (255, 0, 255),
    (255, 0, 170),
    (255, 0, 85),
)
HAND_EDGES = tuple((0, 4 * f + j + 1) if j == 0 else (4 * f + j, 4 * f + j + 1) for f in range(5) for j in range(4))


def openpose_body(person: np.ndarray, confidence: float) -> np.ndarray:
    """[18, 3] OpenPose body points of one COCO-WholeBody person [133, 3]; the neck is confident only when both
    shoulders are."""
    body = np.zeros((18, 3), np.float32)
    for i, k in enumerate(OPENPOSE_FROM_COCO):
        if k >= 0:
            body[i] = person[k]
    left, right = person[wb.INDEX["left_shoulder"]], person[wb.INDEX["right_shoulder"]]
    if left[2] >= confidence and right[2] >= confidence:
        body[1] = [(left[0] + right[0]) / 2, (left[1] + right[1]) / 2, min(left[2], right[2])]
    return body


def render_pose(
    keypoints: np.ndarray,
    size: tuple[int, int],
    confidence: float = 0.3,
    stick_width: int = 4,
    hands: bool = True,
    face: bool = True,
) -> np.ndarray:
    """RGB uint8 [H, W, 3] skeleton image of one frame's persons [P, 133, 3] (clip pixels), `size` = (w, h)."""
    width, height = size
    canvas = np.zeros((height, width, 3), np.uint8)
    for person in np.asarray(keypoints, np.float32):
        body = openpose_body(person, confidence)
        for limb, (a, b) in enumerate(OPENPOSE_LIMBS):
            if body[a, 2] < confidence or body[b, 2] < confidence:
                continue
            layer = canvas.copy()
            (xa, ya), (xb, yb) = body[a, :2], body[b, :2]
            length = float(np.hypot(xa - xb, ya - yb))
            angle = float(np.degrees(np.arctan2(ya - yb, xa - xb)))
            polygon = cv2.ellipse2Poly(
                (int((xa + xb) / 2), int((ya + yb) / 2)), (int(length / 2), stick_width), int(angle), 0, 360, 1
            )
            cv2.fillConvexPoly(layer, polygon, OPENPOSE_COLOURS[limb])
            canvas = cv2.addWeighted(canvas, 0.4, layer, 0.6, 0)
        for i, (x, y, c) in enumerate(body):
            if c >= confidence:
                cv2.circle(canvas, (int(x), int(y)), 4, OPENPOSE_COLOURS[i], thickness=-1)
        if hands:
            for hand in (wb.LEFT_HAND, wb.RIGHT_HAND):
                points = person[hand]
                for e, (a, b) in enumerate(HAND_EDGES):
                    if points[a, 2] >= confidence and points[b, 2] >= confidence:
                        rgb = colorsys.hsv_to_rgb(e / len(HAND_EDGES), 1.0, 1.0)
                        cv2.line(
                            canvas,
                            tuple(int(v) for v in points[a, :2]),
                            tuple(int(v) for v in points[b, :2]),
                            tuple(int(255 * v) for v in rgb),
                            2,
                        )
                for x, y, c in points:
                    if c >= confidence:
                        cv2.circle(canvas, (int(x), int(y)), 4, (0, 0, 255), thickness=-1)
        if face:
            for x, y, c in person[wb.FACE]:
                if c >= confidence:
                    cv2.circle(canvas, (int(x), int(y)), 3, (255, 255, 255), thickness=-1)
    return canvas


def render_clip(keypoints: np.ndarray, size: tuple[int, int], **options: object) -> np.ndarray:
    """[T, H, W, 3] skeleton images of a clip's keypoints [T, P, 133, 3]."""
    return np.stack([render_pose(frame, size, **options) for frame in keypoints])  # type: ignore[arg-type]
