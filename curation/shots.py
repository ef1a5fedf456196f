"""Shot split and clipping: cuts found with PySceneDetect's content detector on a streamed frame sequence, shots
between cuts, and clips of a configured length placed inside shots (never across a cut)."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

import cv2
import numpy as np
from scenedetect.common import FrameTimecode
from scenedetect.detectors import ContentDetector


def detect_cuts(frames: Iterable[np.ndarray], fps: float, threshold: float = 27.0,
                min_shot_frames: int = 8) -> list[int]:
    """Frame indices where a new shot starts (0 excluded), from RGB frames streamed one at a time."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if min_shot_frames < 1:
        raise ValueError(f"min_shot_frames must be at least 1, got {min_shot_frames}")
    detector = ContentDetector(threshold=threshold, min_scene_len=min_shot_frames)
    cuts: list[int] = []
    count = 0
    for index, rgb in enumerate(frames):
        # PySceneDetect expects OpenCV's BGR order.
        cuts += [c.frame_num for c in detector.process_frame(FrameTimecode(index, fps=fps),
                                                             cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))]
        count = index + 1
    cuts += [c.frame_num for c in detector.post_process(FrameTimecode(count, fps=fps))]
    return sorted(c for c in set(cuts) if 0 < c < count)


def shots_from_cuts(cuts: list[int], total: int) -> list[tuple[int, int]]:
    """Half-open [start, end) frame ranges of the shots of a `total`-frame video."""
    bounds = [0, *sorted(cuts), total]
    return [(a, b) for a, b in pairwise(bounds) if b > a]


def plan_clips(shots: list[tuple[int, int]], clip_frames: int, stride: int | None = None,
               max_per_shot: int | None = None) -> list[tuple[int, int]]:
    """Clips of exactly `clip_frames` frames inside each shot, `stride` apart (default: back to back)."""
    if clip_frames < 2:
        raise ValueError(f"clip_frames must be at least 2, got {clip_frames}")
    stride = stride or clip_frames
    if stride < 1:
        raise ValueError(f"stride must be at least 1, got {stride}")
    clips = []
    for start, end in shots:
        starts = list(range(start, end - clip_frames + 1, stride))
        clips += [(s, s + clip_frames) for s in starts[:max_per_shot]]
    return clips
