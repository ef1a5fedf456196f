"""The training-free rows every benchmark carries, made from its truth alone (no model, no plan to re-render), so
they exist for real footage as for synthetic clips:

- `ground-truth`: the clip itself. The background suite's floor (tracker and codec noise), not zero.
- `frozen-background`: the first frame's background, the person removed (OpenCV inpainting inside the dilated
  person mask), behind each frame's true person (pasted by the truth's mask): what a static-background animator
  yields.
- `shifted-background`: each frame's background (inpainted the same way) under an extra image translation growing
  linearly from 0 to `shift_px` at the last frame (direction `benchmark.reference_rows.SHIFT_DIRECTION`), behind the
  true person: a known camera error (`expected_shift_error`).
- `reference-repeated`: the first frame in every frame (the floor of any animation).
- `reference-warped`: the first frame warped by the truth's camera homography of each frame: the background moves
  exactly as the camera does (an upper bound for background motion), the person is carried along with it.

Frames are encoded like the clips (H.264 through `curation.video.encode.write_mp4`), so codec noise is alike in every
row. Synthetic clips can also be re-rendered exactly from their plans (`benchmark.reference_rows`, `backdrop
reference-rows`); these rows need only the truth.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from benchmark.definition import Benchmark, ClipTruth
from benchmark.reference_rows import injected_offsets
from benchmark.video import read_video
from curation.video.encode import write_mp4

__all__ = [
    "TRAINING_FREE_ROWS",
    "expected_shift_error",
    "frozen_background",
    "reference_repeated",
    "reference_warped",
    "shifted_background",
    "write_training_free_rows",
]

TRAINING_FREE_ROWS = (
    "ground-truth",
    "frozen-background",
    "shifted-background",
    "reference-repeated",
    "reference-warped",
)
INPAINT_DILATION_PX = 5


def _background(frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The frame with the person (mask dilated) filled in from its surroundings."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * INPAINT_DILATION_PX + 1,) * 2)
    hole = cv2.dilate(mask.astype(np.uint8), kernel)
    return cv2.inpaint(frame, hole, 3, cv2.INPAINT_TELEA)


def _paste_person(background: np.ndarray, frame: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask[..., None], frame, background)


def frozen_background(frames: np.ndarray, truth: ClipTruth) -> Iterator[np.ndarray]:
    first = _background(frames[0], truth.fgmask[0])
    for frame, mask in zip(frames, truth.fgmask, strict=True):
        yield _paste_person(first, frame, mask)


def shifted_background(frames: np.ndarray, truth: ClipTruth, shift_px: float) -> Iterator[np.ndarray]:
    h, w = frames.shape[1:3]
    for frame, mask, (dx, dy) in zip(frames, truth.fgmask, injected_offsets(len(frames), shift_px), strict=True):
        moved = cv2.warpAffine(
            _background(frame, mask), np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]]), (w, h), borderMode=cv2.BORDER_REFLECT
        )
        yield _paste_person(moved, frame, mask)


def reference_repeated(frames: np.ndarray) -> Iterator[np.ndarray]:
    for _ in range(len(frames)):
        yield frames[0]


def reference_warped(frames: np.ndarray, truth: ClipTruth) -> Iterator[np.ndarray]:
    h, w = frames.shape[1:3]
    for homography in truth.camera.astype(np.float64):
        yield cv2.warpPerspective(frames[0], homography, (w, h), borderMode=cv2.BORDER_REFLECT)


def expected_shift_error(frames: int, shift_px: float, scale: tuple[float, float] = (1.0, 1.0)) -> float:
    """What `bg-camera-translation` reads on the shifted row for a perfect tracker, in pixels of frames scaled by
    `scale` = (sx, sy) from the clip (a protocol's pixel resolution): the mean over t >= 1 of |offset_t|."""
    offsets = injected_offsets(frames, shift_px) * np.asarray(scale, np.float64)
    return float(np.linalg.norm(offsets, axis=1)[1:].mean())


def write_training_free_rows(
    bench: Benchmark, *, shift_px: float = 32.0, log: Callable[[str], None] = lambda _: None
) -> dict[str, Path]:
    """Write BENCH/rows/ROW/KEY.mp4 for every row and clip; returns row -> folder. Clips already written are kept."""
    if not np.isfinite(shift_px) or shift_px <= 0:
        raise ValueError(f"shift_px must be a positive number, got {shift_px}")
    folders = {row: bench.rows_dir / row for row in TRAINING_FREE_ROWS}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    for key in bench.keys:
        video = bench.clip_video(key)
        if all((folders[row] / f"{key}.mp4").is_file() for row in TRAINING_FREE_ROWS):
            continue
        frames, truth, fps = read_video(video), bench.truth(key), bench.clip(key)["fps"]
        if frames.shape[0] != truth.frames:
            raise ValueError(f"{video} has {frames.shape[0]} frames, its truth {truth.source} {truth.frames}")
        shutil.copyfile(video, folders["ground-truth"] / f"{key}.mp4")
        write_mp4(folders["frozen-background"] / f"{key}.mp4", frozen_background(frames, truth), fps)
        write_mp4(folders["shifted-background"] / f"{key}.mp4", shifted_background(frames, truth, shift_px), fps)
        write_mp4(folders["reference-repeated"] / f"{key}.mp4", reference_repeated(frames), fps)
        write_mp4(folders["reference-warped"] / f"{key}.mp4", reference_warped(frames, truth), fps)
        log(f"training-free rows: {key}")
    return folders
