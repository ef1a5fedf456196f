"""Shot rules on real edits, on constructed clips: a fade to black and back, a dissolve and a title card on black each
end a shot as a hard cut does, and no clip spans one. Made from two synthetic clips of the small corpus (512x512,
moving camera and figure)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from curation.video.clipping import iter_shot_clips
from curation.video.reader import DecodedFrame


def _stream(frames: np.ndarray) -> list[DecodedFrame]:
    return [DecodedFrame(i, i / 24.0, i / 24.0, f, source_index=i) for i, f in enumerate(frames)]


def _clips(frames: np.ndarray, length: int = 8) -> list[tuple[int, int]]:
    return [(c[0].index, c[-1].index + 1) for c in iter_shot_clips(_stream(frames), 24.0, length)]


def _ramp(a: np.ndarray, b: np.ndarray, steps: int) -> np.ndarray:
    """`steps` frames blending from a to b (a dissolve; with b black, a fade)."""
    weights = np.linspace(0, 1, steps + 2)[1:-1]
    return np.stack(
        [((1 - w) * a.astype(np.float32) + w * b.astype(np.float32)).round().astype(np.uint8) for w in weights]
    )


def _title(shape: tuple[int, ...], count: int) -> np.ndarray:
    card = np.zeros(shape, np.uint8)
    cv2.putText(card, "A FILM BY", (shape[1] // 5, shape[0] // 2), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (235, 235, 235), 4)
    return np.repeat(card[None], count, axis=0)


@pytest.fixture(scope="module")
def shots(small_corpus) -> tuple[np.ndarray, np.ndarray]:
    return small_corpus[1]["rgb"], small_corpus[4]["rgb"]


def _inside(clips: list[tuple[int, int]], allowed: list[tuple[int, int]]) -> bool:
    return all(any(a <= start and end <= b for a, b in allowed) for start, end in clips)


def test_a_fade_to_black_and_back_ends_the_shot(shots) -> None:
    a, b = shots
    black = np.zeros_like(a[:6])
    frames = np.concatenate([a, _ramp(a[-1], black[0], 12), black, _ramp(black[0], b[0], 12), b])
    clips = _clips(frames)
    start_b = len(a) + 12 + 6 + 12
    assert clips and _inside(clips, [(0, len(a)), (start_b, len(frames))]), clips
    assert any(end <= len(a) for _, end in clips) and any(start >= start_b for start, _ in clips)


def test_a_dissolve_ends_the_shot(shots) -> None:
    a, b = shots
    frames = np.concatenate([a, _ramp(a[-1], b[0], 12), b])
    clips = _clips(frames)
    assert clips and _inside(clips, [(0, len(a)), (len(a) + 12, len(frames))]), clips


def test_a_title_card_between_hard_cuts_is_in_no_clip(shots) -> None:
    a, b = shots
    frames = np.concatenate([a, _title(a.shape[1:], 20), b])
    clips = _clips(frames)
    assert clips and _inside(clips, [(0, len(a)), (len(a) + 20, len(frames))]), clips


def test_a_moving_camera_without_transitions_keeps_its_clips(shots) -> None:
    a, _ = shots
    assert _clips(a) == [(0, 8), (8, 16), (16, 24)]
