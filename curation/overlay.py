"""An overlay video of a curated clip for a person to look at: the foreground mask tinted, the skeleton, the
background tracks coloured by `track_mask`, and the camera's motion as an arrow with its label.

Colours: kept tracks (in `track_mask`) green with a short trail; visible but masked out (on or next to a person, or
not explained by the camera) orange; not visible not drawn. The arrow at the image centre shows where the frame-0
background at the centre moves in the next frame, magnified (`arrow_gain`).
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from curation.person import wholebody as wb

KEPT, MASKED = (60, 220, 60), (255, 150, 0)
MASK_TINT = np.array([230, 40, 200], np.float32)
PERSON_COLOURS = ((255, 80, 80), (80, 160, 255), (255, 220, 60), (180, 90, 255))


def _project(h: np.ndarray, point: np.ndarray) -> np.ndarray:
    x, y, w = h @ np.array([point[0], point[1], 1.0])
    return np.array([x / w, y / w])


def draw_skeleton(image: np.ndarray, keypoints: np.ndarray, confidence: float = 0.3, thickness: int = 2) -> None:
    """OpenPose-style body limbs and joints of persons [P, 133, 3] onto an RGB image, in place."""
    for p, person in enumerate(keypoints):
        colour = PERSON_COLOURS[p % len(PERSON_COLOURS)]
        for a, b in wb.BODY_LIMBS:
            if person[a, 2] >= confidence and person[b, 2] >= confidence:
                cv2.line(
                    image,
                    tuple(np.round(person[a, :2]).astype(int)),
                    tuple(np.round(person[b, :2]).astype(int)),
                    colour,
                    thickness,
                    cv2.LINE_AA,
                )
        for x, y, c in person[: wb.BODY.stop]:
            if c >= confidence:
                cv2.circle(image, (round(float(x)), round(float(y))), thickness + 1, (255, 255, 255), -1, cv2.LINE_AA)


def overlay_frames(
    frames: np.ndarray,
    *,
    pose: np.ndarray | None = None,
    fgmask: np.ndarray | None = None,
    tracks: np.ndarray | None = None,
    visible: np.ndarray | None = None,
    track_mask: np.ndarray | None = None,
    camera: np.ndarray | None = None,
    label: str | None = None,
    trail: int = 6,
    arrow_gain: float = 8.0,
) -> Iterator[np.ndarray]:
    """Overlay frames [H, W, 3] uint8, one per clip frame; any layer may be left out."""
    count, height, width = frames.shape[:3]
    centre = np.array([width / 2, height / 2])
    for t in range(count):
        image = frames[t].astype(np.float32)
        if fgmask is not None:
            image[fgmask[t]] = 0.6 * image[fgmask[t]] + 0.4 * MASK_TINT
        image = np.clip(image, 0, 255).astype(np.uint8)
        if tracks is not None and visible is not None:
            keep = track_mask if track_mask is not None else visible
            kept = keep[t]
            start = max(0, t - trail)
            for n in np.flatnonzero(kept):
                points = np.round(tracks[start : t + 1, n][keep[start : t + 1, n]]).astype(np.int32)
                if len(points) > 1:
                    cv2.polylines(image, [points.reshape(-1, 1, 2)], False, KEPT, 1, cv2.LINE_AA)
                cv2.circle(image, tuple(np.round(tracks[t, n]).astype(int)), 2, KEPT, -1, cv2.LINE_AA)
            for n in np.flatnonzero(visible[t] & ~kept):
                cv2.circle(image, tuple(np.round(tracks[t, n]).astype(int)), 2, MASKED, -1, cv2.LINE_AA)
        if pose is not None:
            draw_skeleton(image, pose[t])
        if camera is not None:
            nxt = min(t + 1, count - 1)
            here = _project(camera[t], centre)
            step = _project(camera[nxt], centre) - here if nxt > t else np.zeros(2)
            tip = centre + arrow_gain * step
            cv2.arrowedLine(
                image,
                tuple(np.round(centre).astype(int)),
                tuple(np.round(tip).astype(int)),
                (255, 255, 255),
                2,
                cv2.LINE_AA,
                tipLength=0.25,
            )
        text = f"{t:3d}/{count}" + (f"  camera: {label}" if label else "")
        cv2.putText(image, text, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(image, text, (8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
        yield image
