"""What a clip shows, beyond its quality: black frames, a still picture (a slide show's slide), letterbox bars.
Cheap: computed on every frame subsampled to about `SMALL_SIDE` pixels on the short side.

| score | definition |
| --- | --- |
| `black_frames` | fraction of frames in which at least 90% of pixels have luma <= 24 (of 255) |
| `still_fraction` | fraction of consecutive frame pairs whose mean absolute luma difference is below 0.5 grey levels |
| `letterbox` | fraction of the frame's area in black bars along its edges (`letterbox_bars`) |
"""

from __future__ import annotations

import numpy as np

SMALL_SIDE = 72
BLACK_LUMA = 24  # luma at or under which a pixel counts as black (video black is 16; compression lifts it)
BLACK_SHARE = 0.9  # share of black pixels that makes a frame black
STILL_CHANGE = 0.5  # grey levels of mean change under which two frames show the same picture
BAR_LUMA = 24  # a bar's rows (columns) stay at or under this luma in every frame
MIN_BAR = 0.02  # bars thinner than this fraction of the side are not bars (a dark edge)


def small_luma(rgb: np.ndarray) -> np.ndarray:
    """float32 luma [T, h, w] of RGB frames [T, H, W, 3], every k-th pixel so the short side is about SMALL_SIDE."""
    if rgb.ndim != 4 or rgb.shape[-1] != 3:
        raise ValueError(f"frames must be [T, H, W, 3], got {rgb.shape}")
    step = max(1, min(rgb.shape[1:3]) // SMALL_SIDE)
    small = rgb[:, ::step, ::step].astype(np.float32)
    return small @ np.array([0.299, 0.587, 0.114], np.float32)


def letterbox_bars(rgb: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right): rows and columns, in clip pixels, of the black bars along each edge: the edge
    rows (columns) whose brightest pixel in every frame is at most BAR_LUMA, when they are at least MIN_BAR thick."""
    luma = small_luma(rgb)
    step = max(1, min(rgb.shape[1:3]) // SMALL_SIDE)
    rows = luma.max(axis=(0, 2)) <= BAR_LUMA
    cols = luma.max(axis=(0, 1)) <= BAR_LUMA

    def run(flags: np.ndarray) -> int:
        dark = np.flatnonzero(~flags)
        return int(dark[0]) if len(dark) else len(flags)

    height, width = rgb.shape[1:3]
    bars = [run(rows) * step, run(rows[::-1]) * step, run(cols) * step, run(cols[::-1]) * step]
    sides = (height, height, width, width)
    bars = [min(b, side) if b >= MIN_BAR * side else 0 for b, side in zip(bars, sides, strict=True)]
    return bars[0], bars[1], bars[2], bars[3]


def bars_mask(shape: tuple[int, int], bars: tuple[int, int, int, int]) -> np.ndarray:
    """bool [H, W]: True in the bars."""
    height, width = shape
    top, bottom, left, right = bars
    mask = np.zeros((height, width), bool)
    mask[:top], mask[height - bottom :], mask[:, :left], mask[:, width - right :] = True, True, True, True
    return mask


def content_scores(rgb: np.ndarray) -> dict[str, float]:
    """`black_frames`, `still_fraction` and `letterbox` of RGB frames [T, H, W, 3] (see the table above)."""
    luma = small_luma(rgb)
    black = (luma <= BLACK_LUMA).mean(axis=(1, 2)) >= BLACK_SHARE
    change = np.abs(np.diff(luma, axis=0)).mean(axis=(1, 2))
    top, bottom, left, right = letterbox_bars(rgb)
    height, width = rgb.shape[1:3]
    inner = max(height - top - bottom, 0) * max(width - left - right, 0)
    return {
        "black_frames": float(black.mean()),
        "still_fraction": float((change < STILL_CHANGE).mean()) if len(change) else 1.0,
        "letterbox": float(1.0 - inner / (height * width)),
    }
