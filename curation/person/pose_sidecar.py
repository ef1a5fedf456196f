"""Pose sources behind one interface: a sidecar file of keypoints (datasets often ship them; synthetic clips ship
`keypoints` in NAME.gt.npz). The DWPose estimator of a later issue implements the same `PoseEstimator` protocol.

Keypoints are float32 [T, P, 133, 3] (x, y in clip pixels, confidence), COCO-WholeBody order, persons sorted by area.
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from curation.person import wholebody as wb


class PoseEstimator(Protocol):
    name: str

    def estimate(self, rgb: np.ndarray, source_frames: np.ndarray) -> np.ndarray:
        """Keypoints [T, P, 133, 3] for clip frames `rgb` [T, H, W, 3], whose source frame indices are given."""
        ...


def validate_keypoints(keypoints: np.ndarray, size: tuple[int, int] | None = None) -> np.ndarray:
    """Check shape and values; zero the confidence of points that are not finite. Returns float32 [T, P, 133, 3]."""
    keypoints = np.asarray(keypoints)
    if keypoints.ndim != 4 or keypoints.shape[2:] != (wb.NUM_KEYPOINTS, 3):
        raise ValueError(f"keypoints must be [T, P, {wb.NUM_KEYPOINTS}, 3], got {keypoints.shape}")
    keypoints = keypoints.astype(np.float32, copy=True)
    bad = ~np.isfinite(keypoints).all(axis=-1)
    keypoints[bad] = 0.0
    confidence = keypoints[..., 2]
    if (confidence < 0).any() or (confidence > 1).any():
        raise ValueError("keypoint confidences must lie in [0, 1]")
    if size is not None:
        width, height = size
        outside = (
            (keypoints[..., 0] < -width)
            | (keypoints[..., 0] > 2 * width)
            | (keypoints[..., 1] < -height)
            | (keypoints[..., 1] > 2 * height)
        )
        keypoints[..., 2][outside] = 0.0  # far outside the frame: a broken point, not a person
    return keypoints


def sort_by_area(keypoints: np.ndarray, confidence: float = 0.3) -> np.ndarray:
    """Persons ordered by the mean area of their confident keypoints' bounding box, largest first."""
    areas = []
    for p in range(keypoints.shape[1]):
        person = keypoints[:, p]
        ok = person[..., 2] >= confidence
        boxes = [
            np.ptp(person[t, ok[t], 0]) * np.ptp(person[t, ok[t], 1]) for t in range(len(person)) if ok[t].sum() > 1
        ]
        areas.append(float(np.mean(boxes)) if boxes else 0.0)
    return keypoints[:, np.argsort(-np.array(areas), kind="stable")]


#: Where a sidecar file may sit beside `NAME.mp4`, in the order looked at (`NAME.gt.npz` is the synthetic source's).
SIDECAR_SUFFIXES = (".pose.npz", ".pose.npy", ".gt.npz")


def find_sidecar(video: str | os.PathLike) -> str | None:
    """The sidecar keypoints file of a video, or None when there is none."""
    stem = os.path.splitext(os.fspath(video))[0]
    for suffix in SIDECAR_SUFFIXES:
        if os.path.isfile(stem + suffix):
            return stem + suffix
    return None


class SidecarPose:
    """Keypoints read from an `.npz` (member `keypoints`) or `.npy` file beside the video, in source frames and
    source pixels; mapped to a clip by its source frame indices and its scale to clip pixels."""

    name = "sidecar"

    def __init__(self, path: str | os.PathLike, source_size: tuple[int, int]) -> None:
        path = os.fspath(path)
        if path.endswith(".npz"):
            with np.load(path, allow_pickle=False) as data:
                if "keypoints" not in data.files:
                    raise ValueError(f"{path}: no `keypoints` member")
                raw = data["keypoints"]
        else:
            raw = np.load(path, allow_pickle=False)
        self.source_size = source_size
        self.keypoints = sort_by_area(validate_keypoints(raw, source_size))

    def estimate(self, rgb: np.ndarray, source_frames: np.ndarray) -> np.ndarray:
        source_frames = np.asarray(source_frames, int)
        if source_frames.min(initial=0) < 0 or source_frames.max(initial=0) >= len(self.keypoints):
            raise ValueError(
                f"clip frames {source_frames.min()}..{source_frames.max()} outside the sidecar's "
                f"{len(self.keypoints)} frames"
            )
        clip = self.keypoints[source_frames].copy()
        height, width = rgb.shape[1:3]
        clip[..., 0] *= width / self.source_size[0]
        clip[..., 1] *= height / self.source_size[1]
        return clip
