"""One-pass clipping agrees with the two-pass route (cuts over the whole video, then clips inside shots)."""

from __future__ import annotations

import numpy as np
import pytest

from curation.video.clipping import clip_size, detection_frame, iter_shot_clips
from curation.video.reader import DecodedFrame
from curation.video.shots import detect_cuts, plan_clips, shots_from_cuts


def _stream(frames: np.ndarray) -> list[DecodedFrame]:
    return [DecodedFrame(i, i / 24.0, i / 24.0, f) for i, f in enumerate(frames)]


@pytest.mark.parametrize(
    ("clip_frames", "stride", "max_per_shot"),
    [(10, None, None), (7, 5, None), (6, 4, 2), (24, None, 1), (25, None, None)],
)
def test_online_clips_equal_two_pass_plan(small_corpus, clip_frames, stride, max_per_shot):
    frames = np.concatenate([c["rgb"] for c in small_corpus[:5]])
    cuts = detect_cuts((detection_frame(f, 144)[..., ::-1] for f in frames), fps=24.0)
    assert cuts == [24, 48, 72, 96]
    expected = plan_clips(shots_from_cuts(cuts, len(frames)), clip_frames, stride, max_per_shot)
    got = [
        (c[0].index, c[-1].index + 1)
        for c in iter_shot_clips(_stream(frames), 24.0, clip_frames, stride=stride, max_per_shot=max_per_shot)
    ]
    assert got == expected
    if clip_frames == 25:
        assert got == []  # no shot is long enough


def test_online_clips_hold_the_right_frames(small_corpus):
    frames = np.concatenate([c["rgb"] for c in small_corpus[:2]])
    for clip in iter_shot_clips(_stream(frames), 24.0, 12):
        assert [f.index for f in clip] == list(range(clip[0].index, clip[0].index + 12))
        np.testing.assert_array_equal(clip[0].rgb, frames[clip[0].index])


def test_bounded_buffer_on_a_long_stream():
    """A long single shot streams through: at most one clip plus the look-ahead is held."""
    import weakref

    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (32, 32, 3), np.uint8)
    alive = 0
    most = 0

    def released() -> None:
        nonlocal alive
        alive -= 1

    def frames():
        nonlocal alive, most
        for i in range(600):
            frame = DecodedFrame(i, i / 24, i / 24, np.roll(base, i % 3, axis=1).copy())
            alive += 1
            weakref.finalize(frame, released)
            most = max(most, alive)
            yield frame

    clips = 0
    for clip in iter_shot_clips(frames(), 24.0, 16, max_per_shot=None):
        clips += 1
        del clip  # the consumer lets go of each clip, as the stages do
    assert clips == 600 // 16
    assert 16 < most <= 16 + 11 + 2  # one clip, the look-ahead (shots.cut_delay: 11 frames), the new frame


def test_clip_size_rounds_to_multiples_of_four():
    assert clip_size(1280, 720, 512) == (912, 512)
    assert clip_size(720, 1280, 512) == (512, 912)
    assert clip_size(512, 512, None) == (512, 512)
    assert clip_size(854, 480, None) == (856, 480)
    with pytest.raises(ValueError):
        clip_size(2, 2, None)
