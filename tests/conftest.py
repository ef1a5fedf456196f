"""Shared fixtures: a small synthetic corpus written once per test session (no downloads)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from curation.synthetic.clip import SynthConfig
from curation.synthetic.corpus import read_ground_truth, write_corpus
from curation.video_io import read_frames

# Single-threaded OpenCV keeps results and timings stable on small CI machines.
cv2.setNumThreads(1)

#: Full resolution but half the frames, so CI stays fast; 12 consecutive clips cover every camera label.
SMALL = SynthConfig(width=512, height=512, frames=24, fps=24.0, grid_step=16)


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = tmp_path_factory.mktemp("corpus")
    written = write_corpus(12, out, seed=3, config=SMALL, workers=2)
    clips = []
    for clip in written:
        base = Path(clip.video)
        clips.append(
            {
                "name": clip.name,
                "video": base,
                "rgb": read_frames(base),
                "gt": read_ground_truth(base.with_name(f"{clip.name}.gt.npz")),
                "meta": json.loads(base.with_name(f"{clip.name}.json").read_text()),
            }
        )
    return clips


@pytest.fixture(scope="session")
def curated_small(small_corpus: list[dict]) -> list[dict]:
    """Foreground, tracks and camera of every clip of the small corpus, computed once."""
    from curation.camera_estimation import estimate_camera
    from curation.foreground import foreground_masks
    from curation.tracks import TrackerConfig, background_track_mask, make_track_mask, track_clip

    results = []
    for clip in small_corpus:
        rgb, gt = clip["rgb"], clip["gt"]
        size = (rgb.shape[2], rgb.shape[1])
        mask, dilated = foreground_masks(rgb, gt["keypoints"])
        tracks = track_clip(rgb, mask, TrackerConfig(grid_step=SMALL.grid_step))
        camera = estimate_camera(tracks.positions, make_track_mask(tracks.positions, tracks.visible, dilated), size)
        results.append(
            {
                "clip": clip,
                "mask": mask,
                "dilated": dilated,
                "tracks": tracks,
                "track_mask": background_track_mask(tracks, dilated, camera),
                "camera": camera,
            }
        )
    return results


def gt_visible_for(result: dict) -> np.ndarray:
    return result["clip"]["gt"]["gt_visible"][:, result["tracks"].grid_index]
