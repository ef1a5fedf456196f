"""Shot detection on synthetic clips joined end to end, and clip planning."""

from __future__ import annotations

import numpy as np
import pytest

from curation.video.shots import detect_cuts, plan_clips, shots_from_cuts


def test_cuts_found_on_joined_clips(small_corpus):
    frames = np.concatenate([c["rgb"] for c in small_corpus])
    lengths = np.cumsum([len(c["rgb"]) for c in small_corpus])[:-1]
    cuts = detect_cuts(iter(frames), fps=24.0)
    assert len(cuts) == len(lengths)  # every cut, no false cut (camera motion and shake included)
    assert np.abs(np.array(cuts) - lengths).max() <= 1


def test_fast_and_shaking_cameras_are_not_cuts(small_corpus):
    # Every camera recipe, pan + shake included (the plain content detector cut those).
    labels = {c["meta"]["camera_label"] for c in small_corpus}
    assert any("shake" in label and "pan" in label for label in labels)
    for clip in small_corpus:
        assert detect_cuts(iter(clip["rgb"]), fps=24.0) == [], clip["meta"]["camera_label"]


def test_plan_clips_stay_inside_shots():
    shots = shots_from_cuts([50, 60], 200)
    assert shots == [(0, 50), (50, 60), (60, 200)]
    clips = plan_clips(shots, 24)
    assert clips == [(0, 24), (24, 48), (60, 84), (84, 108), (108, 132), (132, 156), (156, 180)]
    assert plan_clips(shots, 24, stride=48, max_per_shot=1) == [(0, 24), (60, 84)]
    with pytest.raises(ValueError):
        plan_clips(shots, 1)
    with pytest.raises(ValueError):
        detect_cuts(iter([]), fps=0)
