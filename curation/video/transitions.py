"""Gradual transitions that end a shot as a hard cut does: fades to and from black, dissolves, black frames and
title cards on black. PySceneDetect's adaptive detector finds hard cuts (a large change between two frames); a
transition spreads its change over many frames and slips past it, so a clip would span one.

A frame t is in a transition when, on small grey frames (`curation.quality.content.small_luma`):
- it is dark: at least `DARK_SHARE` of its pixels are at or under `DARK_LUMA` (black, or text on black); or
- it is a blend of the frames `SPAN` before and after it (F(t) ~ (F(t-k) + F(t+k)) / 2: a fade or a dissolve),
  while those two differ: the residual of the blend is under `BLEND_RATIO` of their difference, and either the
  brightness changes by `FADE_LUMA` (a fade) or the two frames differ by `DISSOLVE_CHANGE` (a dissolve). Camera
  motion over texture is no blend: the average of two shifted views is a blurred double image, far from the middle
  view.
Transition frames, and `MARGIN` frames on each side (the ends of a fade are faint), belong to no shot.
"""

from __future__ import annotations

from collections import deque

import numpy as np

SPAN = 4
MARGIN = 2
DARK_LUMA = 24.0
DARK_SHARE = 0.85
BLEND_RATIO = 0.2
FADE_LUMA = 12.0
DISSOLVE_CHANGE = 20.0


def is_dark(luma: np.ndarray) -> bool:
    return bool((luma <= DARK_LUMA).mean() >= DARK_SHARE)


def is_blend(before: np.ndarray, middle: np.ndarray, after: np.ndarray) -> bool:
    """Whether `middle` is a blend of `before` and `after` (a fade or dissolve step), which differ enough."""
    difference = float(np.abs(after - before).mean())
    if difference <= 0:
        return False
    residual = float(np.abs(middle - (before + after) / 2).mean())
    fade = abs(float(after.mean()) - float(before.mean())) >= FADE_LUMA
    return residual < BLEND_RATIO * difference and (fade or difference >= DISSOLVE_CHANGE)


class TransitionDetector:
    """Online: `push(index, luma)` for frames 0, 1, 2, ... returns the frame indices now known to lie in a
    transition (with their margin), in increasing order; frame t's verdict comes when frame t + SPAN arrives, and
    `flush()` gives the last frames' at the end."""

    delay = SPAN + MARGIN  # frames after which a frame's verdict (margin included) is known

    def __init__(self) -> None:
        self.window: deque[tuple[int, np.ndarray]] = deque(maxlen=2 * SPAN + 1)
        self.reported = -1  # the last frame index reported

    def _report(self, hit: int) -> list[int]:
        frames = list(range(max(hit - MARGIN, self.reported + 1), hit + MARGIN + 1))
        if frames:
            self.reported = frames[-1]
        return frames

    def push(self, index: int, luma: np.ndarray) -> list[int]:
        self.window.append((index, np.asarray(luma, np.float32)))
        if len(self.window) <= SPAN:
            return []
        middle_index, middle = self.window[-1 - SPAN]
        hit = is_dark(middle)
        if not hit and len(self.window) == self.window.maxlen:
            hit = is_blend(self.window[0][1], middle, self.window[-1][1])
        return self._report(middle_index) if hit else []

    def flush(self) -> list[int]:
        """Verdicts of the last SPAN frames (darkness only: nothing follows them to blend with)."""
        out = []
        for index, luma in list(self.window)[-SPAN:]:
            if index > self.reported - MARGIN and is_dark(luma):
                out += self._report(index)
        return out
