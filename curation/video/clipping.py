"""Clips cut from a streamed video in one pass: shots are detected while frames arrive, and a clip is handed out as
soon as it is complete and no cut can still be reported inside it. Memory holds at most one clip plus the
detector's look-ahead, whatever the video's length.

The result is the same as the two-pass route of `curation.video.shots` (`detect_cuts` over the whole video, then
`plan_clips` inside the shots): the detector reports a cut at most `shots.cut_delay(min_shot_frames)` frames after
it happened (its averaging window, then its minimum shot length), so a clip is held back that long.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import replace

import cv2
import numpy as np
from scenedetect.common import FrameTimecode

from curation.quality.content import small_luma
from curation.video.reader import DecodedFrame
from curation.video.shots import cut_delay, cut_detector
from curation.video.transitions import TransitionDetector


def clip_size(width: int, height: int, short_side: int | None) -> tuple[int, int]:
    """(width, height) with the short side scaled to `short_side` (None: unchanged), both rounded to multiples of 4
    (x264 is byte-reproducible here only with even chroma planes)."""
    if width < 4 or height < 4:
        raise ValueError(f"frames of {width}x{height} are too small for a clip")
    scale = 1.0 if short_side is None else short_side / min(width, height)
    return max(4, round(width * scale / 4) * 4), max(4, round(height * scale / 4) * 4)


def resize_frame(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """RGB frame resized to (width, height): area averaging when shrinking, bilinear when growing."""
    height, width = rgb.shape[:2]
    if (width, height) == size:
        return rgb
    shrinking = size[0] * size[1] < width * height
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def detection_frame(rgb: np.ndarray, short_side: int) -> np.ndarray:
    """The small BGR frame the cut detector sees: every k-th pixel, so its short side is about `short_side`.

    The detector compares mean colour statistics of whole frames, which plain subsampling keeps; filtering first
    (an area resize) cost as much as decoding here."""
    step = max(1, min(rgb.shape[:2]) // short_side)
    return np.ascontiguousarray(rgb[::step, ::step, ::-1])


def resized_frames(frames: Iterable[DecodedFrame], size: tuple[int, int]) -> Iterator[DecodedFrame]:
    for frame in frames:
        yield replace(frame, rgb=resize_frame(frame.rgb, size))


def iter_shot_clips(
    frames: Iterable[DecodedFrame],
    fps: float,
    clip_frames: int,
    *,
    stride: int | None = None,
    max_per_shot: int | None = None,
    threshold: float = 3.0,
    min_shot_frames: int = 8,
    detect_short_side: int = 144,
) -> Iterator[list[DecodedFrame]]:
    """Clips of exactly `clip_frames` consecutive frames inside shots, `stride` apart from each shot's start."""
    if clip_frames < 2:
        raise ValueError(f"clip_frames must be at least 2, got {clip_frames}")
    detector = cut_detector(threshold, min_shot_frames)
    transitions = TransitionDetector()
    lookahead = max(cut_delay(min_shot_frames), transitions.delay + 1)
    planner = _OnlinePlanner(clip_frames, stride or clip_frames, max_per_shot, lookahead=lookahead)

    barrier = -1  # the last frame left out as part of a transition: no shot starts at or before it

    def leave_out(frames_in_transition: list[int]) -> Iterator[list[DecodedFrame]]:
        nonlocal barrier
        for index in frames_in_transition:  # a transition frame ends a shot and starts none
            barrier = max(barrier, index)
            if index + 1 > planner.next_start:
                yield from planner.ready(index - 1)
                planner.cut(index + 1)

    count = 0
    shown = -1  # the source frame the detector saw last
    for frame in frames:
        if frame.index != count:
            raise ValueError(f"frames must be numbered 0, 1, 2, ...; got {frame.index} after {count - 1}")
        count += 1
        cuts = []
        # A source frame repeated by the resampler (a 10 fps GIF at 24 fps) is not shown to the detector: its zero
        # change would make the next real change look like a cut to the adaptive detector.
        if frame.source_index < 0 or frame.source_index != shown:
            shown = frame.source_index
            cuts = detector.process_frame(
                FrameTimecode(frame.index, fps=fps), detection_frame(frame.rgb, detect_short_side)
            )
        planner.add(frame)
        for cut in sorted(c.frame_num for c in cuts):
            yield from planner.ready(cut - 1)  # clips that end before the cut are complete
            planner.cut(max(cut, barrier + 1))
        yield from leave_out(transitions.push(frame.index, small_luma(frame.rgb[None])[0]))
        yield from planner.ready(frame.index - planner.lookahead)
    for cut in sorted(c.frame_num for c in detector.post_process(FrameTimecode(count, fps=fps))):
        if cut < count:
            yield from planner.ready(cut - 1)
            planner.cut(max(cut, barrier + 1))
    yield from leave_out([index for index in transitions.flush() if index < count])
    yield from planner.ready(float("inf"))


class _OnlinePlanner:
    """Holds the frames a future clip may need; `ready` hands out the clips no later cut can split."""

    def __init__(self, clip_frames: int, stride: int, max_per_shot: int | None, lookahead: int) -> None:
        self.clip_frames, self.stride, self.max_per_shot, self.lookahead = clip_frames, stride, max_per_shot, lookahead
        self.buffer: deque[DecodedFrame] = deque()
        self.next_start = 0  # first frame of the next clip of the current shot
        self.made = 0  # clips made in the current shot

    def _shot_full(self) -> bool:
        return self.max_per_shot is not None and self.made >= self.max_per_shot

    def _trim(self) -> None:
        # Frames before the next clip are not needed; in a finished shot only the look-ahead is kept, since a cut
        # reported late may start the next shot inside it.
        first = self.next_start
        if self._shot_full() and self.buffer:
            first = max(first, self.buffer[-1].index - self.lookahead)
        while self.buffer and self.buffer[0].index < first:
            self.buffer.popleft()

    def add(self, frame: DecodedFrame) -> None:
        self.buffer.append(frame)
        self._trim()

    def cut(self, frame_index: int) -> None:
        if frame_index <= 0:
            return
        self.next_start, self.made = frame_index, 0
        self._trim()

    def ready(self, last_safe: float) -> Iterator[list[DecodedFrame]]:
        while not self._shot_full() and self.next_start + self.clip_frames - 1 <= last_safe:
            start = self.next_start
            clip = [f for f in self.buffer if start <= f.index < start + self.clip_frames]
            if len(clip) < self.clip_frames:
                break  # the stream ended inside this clip
            yield clip
            self.made += 1
            self.next_start = start + self.stride
            self._trim()
