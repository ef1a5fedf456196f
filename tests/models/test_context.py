"""Long videos: windows cover every frame, and blending is seamless (what the windows agree on comes out exactly)."""

from __future__ import annotations

import itertools

import pytest
import torch

from models.pipelines.context import blend_windows, context_windows, window_weights


@pytest.mark.parametrize(("frames", "context", "overlap"), [(8, 8, 2), (5, 8, 2), (20, 8, 2), (23, 8, 3), (50, 24, 4)])
def test_windows_cover_every_frame_with_the_stated_overlap(frames: int, context: int, overlap: int) -> None:
    windows = context_windows(frames, context, overlap)
    covered = sorted({f for w in windows for f in w})
    assert covered == list(range(frames))
    assert all(len(w) == min(context, frames) for w in windows)
    assert windows[-1].stop == frames
    for left, right in itertools.pairwise(windows):
        assert left.stop - right.start >= overlap  # neighbours share at least `overlap` frames


def test_bad_windows_are_refused() -> None:
    with pytest.raises(ValueError, match="overlap"):
        context_windows(10, 4, 4)
    with pytest.raises(ValueError, match="num_frames"):
        context_windows(0, 4, 1)


def test_constant_predictions_blend_into_exactly_that_constant() -> None:
    windows = context_windows(37, 8, 3)
    out = blend_windows(37, windows, 3, lambda w: torch.full((1, 4, len(w), 2, 2), 0.625))
    assert out.shape == (1, 4, 37, 2, 2)
    torch.testing.assert_close(out, torch.full_like(out, 0.625), rtol=0, atol=1e-7)


def test_predictions_that_agree_between_windows_come_out_unchanged() -> None:
    """A frame-dependent signal that every window predicts the same way (a ramp over absolute frame index): no seam
    at any window border."""
    signal = torch.linspace(-1, 1, 30)
    windows = context_windows(30, 8, 2)
    out = blend_windows(30, windows, 2, lambda w: signal[w.start : w.stop].view(1, 1, -1, 1, 1).expand(1, 2, -1, 3, 3))
    torch.testing.assert_close(out[0, 0, :, 0, 0], signal, rtol=0, atol=1e-6)


def test_disagreeing_windows_fade_into_each_other() -> None:
    """Window k predicts the constant k: inside an overlap the blend moves monotonically from one to the next, with
    no jump larger than one ramp step."""
    windows = context_windows(20, 8, 3)
    out = blend_windows(20, windows, 3, lambda w: torch.full((1, 1, len(w), 1, 1), float(windows.index(w))))
    curve = out.flatten()
    steps = curve[1:] - curve[:-1]
    assert bool((steps >= -1e-7).all())  # never goes back
    assert float(steps.max()) <= 0.5 + 1e-6  # overlap 3: weights move by 1/4, so at most half a unit per frame
    assert float(curve[0]) == 0 and float(curve[-1]) == len(windows) - 1


def test_weights_are_ramps_at_shared_borders_only() -> None:
    first, middle, last = (
        window_weights(range(0, 8), 20, 3),
        window_weights(range(5, 13), 20, 3),
        window_weights(range(12, 20), 20, 3),
    )
    assert first.tolist() == [1, 1, 1, 1, 1, 0.75, 0.5, 0.25]
    assert middle.tolist() == [0.25, 0.5, 0.75, 1, 1, 0.75, 0.5, 0.25]
    assert last.tolist() == [0.25, 0.5, 0.75, 1, 1, 1, 1, 1]
