"""SAM2 video masks: built from the packaged config with random weights and a small image size; a multi-window run on
a synthetic clip returns masks of the right shape for every frame and person (no checkpoint, no network)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from curation.backends.sam2_masks import Sam2Masks, Sam2Settings, person_boxes


def test_person_boxes_from_confident_keypoints() -> None:
    keypoints = np.zeros((2, 1, 133, 3), np.float32)
    keypoints[0, 0, :3] = [[10, 20, 1.0], [30, 60, 0.9], [100, 100, 0.1]]  # the last is not confident
    boxes = person_boxes(keypoints, (64, 64), confidence=0.3, padding=0.0)
    np.testing.assert_allclose(boxes[0, 0], [10, 20, 30, 60])
    assert np.isnan(boxes[1, 0]).all()


@pytest.mark.slow
def test_multi_window_masks_for_every_frame_and_person() -> None:
    import torch

    torch.manual_seed(0)
    masks = Sam2Masks(Sam2Settings(checkpoint="random", device="cpu", image_size=128, window=3))
    rgb = np.random.default_rng(0).integers(0, 255, (7, 40, 56, 3), np.uint8)
    keypoints = np.zeros((7, 2, 133, 3), np.float32)
    keypoints[:, 0, :2] = [[8, 6, 1.0], [24, 30, 1.0]]
    keypoints[4:, 1, :2] = [[30, 4, 1.0], [50, 36, 1.0]]  # the second person enters in the second window
    out = masks.masks(rgb, keypoints)
    assert out.shape == (7, 2, 40, 56) and out.dtype == bool
    assert not out[:3, 1].any()  # never prompted before it appears (the first window)
    assert "sam2.1-tiny" in masks.version


def test_missing_checkpoint_names_the_weights_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"backdrop weights download sam2\.1-small"):
        Sam2Masks(Sam2Settings(model_size="small", weights_dir=str(tmp_path), device="cpu"))
