"""Weights-free quality and motion scores of a clip: always computed, cheap, and defined here precisely.

| score | definition |
| --- | --- |
| `sharpness` | mean over sampled frames of the variance of the Laplacian of the grey image (0-255 scale) |
| `brightness` | mean luma of the sampled frames, in [0, 1] |
| `underexposed` / `overexposed` | fraction of sampled pixels with luma <= 16 / >= 239 (of 255) |
| `camera_magnitude` | mean speed of the image corners under the estimated homographies, pixels per frame |
| `background_speed` | median over kept background tracks of their mean frame-to-frame speed, pixels per frame |
| `track_coverage` | fraction of (track, frame) pairs kept in `track_mask` |
| `tracked_frames` | fraction of frames with at least `MIN_CAMERA_TRACKS` tracks kept in `track_mask` |
| `person_area` | mean fraction of the frame covered by the (undilated) foreground mask |
| `person_count` | median over frames of the persons with at least `min_keypoints` confident body keypoints |
| `person_count_max` | the largest such count in any frame |
| `person_frames` | fraction of frames with such a person at least `MIN_PERSON_HEIGHT` of the frame's height tall |

Sharpness depends on resolution and content; compare it between clips of one size, as filters do.
"""

from __future__ import annotations

import cv2
import numpy as np

from curation.person import wholebody as wb
from curation.person.foreground_mask import person_height

#: Every weights-free score the quality stage computes, by name: what a filter may name besides the configured pyiqa
#: metrics (a test checks this list against the stage's output).
WEIGHTS_FREE_SCORES = (
    "sharpness", "brightness", "underexposed", "overexposed", "camera_magnitude", "background_speed",
    "track_coverage", "tracked_frames", "person_area", "person_count", "person_count_max", "person_frames",
    "black_frames", "still_fraction", "letterbox",  # curation/quality/content.py
)  # fmt: skip

#: Body keypoints a person must show with confidence to be counted.
MIN_PERSON_KEYPOINTS = 4
PERSON_CONFIDENCE = 0.3
#: Apparent height (`foreground_mask.person_height`), as a fraction of the frame's, of a person large enough to count.
MIN_PERSON_HEIGHT = 0.1
#: Background tracks a frame needs for its camera estimate to be trusted (a homography needs 4; RANSAC wants more).
MIN_CAMERA_TRACKS = 8


def sample_frame_indices(frames: int, count: int) -> np.ndarray:
    """`count` frame indices spread evenly over a clip of `frames` frames (all frames when it is shorter)."""
    if frames < 1:
        raise ValueError(f"a clip needs at least one frame, got {frames}")
    return np.unique(np.linspace(0, frames - 1, min(count, frames)).round().astype(int))


def image_scores(rgb: np.ndarray, sample: int = 8) -> dict[str, float]:
    """Sharpness and exposure of RGB frames [T, H, W, 3] uint8 on `sample` evenly spaced frames."""
    if rgb.ndim != 4 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 [T, H, W, 3], got {rgb.dtype} {rgb.shape}")
    sharpness, luma = [], []
    for t in sample_frame_indices(len(rgb), sample):
        grey = cv2.cvtColor(rgb[t], cv2.COLOR_RGB2GRAY)
        sharpness.append(float(cv2.Laplacian(grey, cv2.CV_64F).var()))
        luma.append(grey)
    values = np.stack(luma)
    return {
        "sharpness": float(np.mean(sharpness)),
        "brightness": float(values.mean() / 255.0),
        "underexposed": float((values <= 16).mean()),
        "overexposed": float((values >= 239).mean()),
    }


def motion_scores(positions: np.ndarray, track_mask: np.ndarray, camera_magnitude: float) -> dict[str, float]:
    """Background motion from tracks [T, N, 2] and their mask [T, N]; NaN speed when no track is kept twice."""
    if positions.shape[:2] != track_mask.shape:
        raise ValueError(f"positions {positions.shape} and track_mask {track_mask.shape} disagree")
    frames = positions.shape[0]
    speed = np.nan
    if frames > 1 and track_mask.size:
        steps = np.linalg.norm(np.diff(positions.astype(np.float64), axis=0), axis=-1)
        both = track_mask[1:] & track_mask[:-1]
        counts = both.sum(axis=0)
        per_track = np.where(counts > 0, (steps * both).sum(axis=0) / np.maximum(counts, 1), np.nan)
        if np.isfinite(per_track).any():
            speed = float(np.nanmedian(per_track))
    coverage = float(track_mask.mean()) if track_mask.size else 0.0
    tracked = float((track_mask.sum(axis=1) >= MIN_CAMERA_TRACKS).mean()) if frames else 0.0
    return {
        "camera_magnitude": float(camera_magnitude),
        "background_speed": speed,
        "track_coverage": coverage,
        "tracked_frames": tracked,
    }


def person_scores(keypoints: np.ndarray, fgmask: np.ndarray) -> dict[str, float]:
    """Person area from the mask [T, H, W] and person counts from keypoints [T, P, 133, 3]."""
    if keypoints.ndim != 4 or keypoints.shape[2:] != (wb.NUM_KEYPOINTS, 3):
        raise ValueError(f"keypoints must be [T, P, 133, 3], got {keypoints.shape}")
    if len(keypoints) != len(fgmask):
        raise ValueError(f"keypoints have {len(keypoints)} frames, the mask {len(fgmask)}")
    confident = (keypoints[:, :, wb.BODY, 2] >= PERSON_CONFIDENCE).sum(axis=-1) >= MIN_PERSON_KEYPOINTS
    counts = confident.sum(axis=1) if keypoints.shape[1] else np.zeros(len(keypoints), int)
    height = fgmask.shape[1] if fgmask.ndim == 3 else 0
    tall = np.zeros(len(keypoints), bool)
    for t, p in zip(*np.nonzero(confident), strict=True):
        tall[t] |= person_height(keypoints[t, p], PERSON_CONFIDENCE) >= MIN_PERSON_HEIGHT * height
    return {
        "person_area": float(fgmask.mean()),
        "person_count": float(np.median(counts)),
        "person_count_max": float(counts.max(initial=0)),
        "person_frames": float(tall.mean()) if len(tall) else 0.0,
    }
