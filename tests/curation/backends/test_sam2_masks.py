"""SAM2 video masks: built from the packaged config with random weights and a small image size; a multi-window run on
a synthetic clip returns masks of the right shape for every frame and person (no checkpoint, no network)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from curation.backends.sam2_masks import Sam2Masks, Sam2Settings, build_predictor, person_boxes


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


@pytest.mark.slow
def test_checkpoint_from_the_weights_directory_loaded_strictly(tmp_path: Path) -> None:
    import torch

    settings = Sam2Settings(checkpoint="random", device="cpu", image_size=128)
    state = {k: v + 1 if v.is_floating_point() else v for k, v in build_predictor(settings).state_dict().items()}
    torch.save({"model": state}, tmp_path / "sam2.1_hiera_tiny.pt")  # SAM 2's checkpoint layout
    loaded = build_predictor(replace(settings, checkpoint=None, weights_dir=str(tmp_path))).state_dict()
    assert loaded.keys() == state.keys() and all(torch.equal(loaded[k], state[k]) for k in state)
    # The same tensors as sam2's own loader gives from the same file.
    from sam2.build_sam import build_sam2_video_predictor

    theirs = build_sam2_video_predictor(
        "configs/sam2.1/sam2.1_hiera_t.yaml",
        str(tmp_path / "sam2.1_hiera_tiny.pt"),
        device="cpu",
        hydra_overrides_extra=["++model.image_size=128"],
    ).state_dict()
    assert all(torch.equal(theirs[k], loaded[k]) for k in state)
    torch.save({"model": dict(list(state.items())[1:])}, tmp_path / "short.pt")
    with pytest.raises(ValueError, match=r"short\.pt: weights do not match"):
        build_predictor(replace(settings, checkpoint=str(tmp_path / "short.pt")))
