"""AnimateAnyonePipeline on the tiny model: uint8 video of the poses' length and size, deterministic for a
generator, long videos through blended windows without seams."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.animate_anyone import build_animate_anyone
from models.config import named_model_config
from models.pipelines import AnimateAnyonePipeline


@pytest.fixture(scope="module")
def pipeline() -> AnimateAnyonePipeline:
    return AnimateAnyonePipeline(build_animate_anyone(named_model_config("tiny")))


def _reference(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (128, 128, 3), dtype=np.uint8)


def test_output_shape_dtype_and_determinism(pipeline: AnimateAnyonePipeline) -> None:
    poses = torch.rand(5, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    run = lambda seed, **kw: pipeline(  # noqa: E731
        _reference(), poses, num_inference_steps=2, generator=torch.Generator().manual_seed(seed), **kw
    )
    video = run(1)
    assert video.shape == (5, 128, 128, 3) and video.dtype == np.uint8
    assert np.array_equal(run(1), video)
    assert not np.array_equal(run(2), video)
    unguided = run(1, guidance_scale=1.0)
    assert unguided.shape == video.shape and not np.array_equal(unguided, video)
    assert len(pipeline.model.bank) == 0 and pipeline.model.training  # state restored after the call


def test_reference_formats_agree(pipeline: AnimateAnyonePipeline) -> None:
    poses = torch.rand(2, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    uint8 = _reference(3)
    as_float = torch.from_numpy(uint8).permute(2, 0, 1).float() / 127.5 - 1
    a = pipeline(uint8, poses, num_inference_steps=1, generator=torch.Generator().manual_seed(0))
    b = pipeline(as_float, poses, num_inference_steps=1, generator=torch.Generator().manual_seed(0))
    assert np.array_equal(a, b)
    with pytest.raises(ValueError, match="pose"):
        pipeline(uint8, torch.rand(2, 128, 128), num_inference_steps=1)


def test_long_video_has_no_seams_where_windows_agree(pipeline: AnimateAnyonePipeline) -> None:
    """14 frames in 8-frame windows overlapping by 2, every frame given the same pose and the same initial noise:
    with the temporal layers at their initial identity every window predicts the same for every frame, so every
    output frame must be the same, and equal to a one-frame video's."""
    g = torch.Generator().manual_seed(4)
    pose = torch.rand(1, 3, 128, 128, generator=g)
    noise = torch.randn(1, 192, 1, 16, 16, generator=g)
    reference = _reference(5)
    long = pipeline(
        reference, pose.expand(14, -1, -1, -1), num_inference_steps=2, latents=noise.expand(-1, -1, 14, -1, -1)
    )
    short = pipeline(reference, pose, num_inference_steps=2, latents=noise)
    assert long.shape == (14, 128, 128, 3)
    diff = np.abs(long.astype(int) - short.astype(int))
    assert diff.max() <= 1  # float rounding of the blend's weighted mean, at most one grey level
    assert np.mean(diff) < 0.01
