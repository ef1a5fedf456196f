"""`reference_concat` (backdrop's CPU-scale setting): the reference latents beside the noisy latents on every frame,
zeros where the reference is dropped; a widened input that starts as the plain model; trained and sampled through."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from models.animate_anyone import build_animate_anyone
from models.animate_anywhere import build_animate_anywhere
from models.config import ModelConfigError, named_model_config
from models.pipelines import AnimateAnyonePipeline


def _config(name: str = "tiny", **changes):
    return dataclasses.replace(named_model_config(name), **changes)


def _inputs(samples: int = 2, frames: int = 3, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {
        "frames": torch.rand(samples, frames, 3, 128, 128, generator=g) * 2 - 1,
        "pose_images": torch.rand(samples, frames, 3, 128, 128, generator=g),
        "reference": torch.rand(samples, 3, 128, 128, generator=g) * 2 - 1,
        "key": [str(i) for i in range(samples)],
    }


@pytest.fixture(scope="module")
def concat():
    return build_animate_anyone(_config(reference_concat=True))


def test_only_the_background_free_kinds_take_it() -> None:
    assert not named_model_config("tiny").reference_concat
    with pytest.raises(ModelConfigError, match="reference_concat is for the animate_anyone and animate_anywhere"):
        _config("disentangled_tiny", reference_concat=True)
    anywhere = build_animate_anywhere(_config("animate_anywhere_tiny", reference_concat=True))
    latent = anywhere.codec.latent_channels
    assert anywhere.denoising_unet.conv_in.in_channels == 2 * latent == anywhere.denoising_unet.config.in_channels


def test_the_input_holds_the_reference_on_every_frame_and_zeros_where_dropped(concat) -> None:
    batch = _inputs()
    latent = concat.codec.latent_channels
    with torch.no_grad():
        reference = concat.codec.encode(batch["reference"], None)
        noisy = torch.randn(2, latent, 3, 16, 16)
        concat.write_reference(reference, concat.image_encoder(batch["reference"]), torch.tensor([True, False]))
        x = concat.denoiser_input(noisy)
    assert x.shape == (2, 2 * latent, 3, 16, 16)
    assert torch.equal(x[:, :latent], noisy)
    for frame in range(3):
        assert torch.equal(x[0, latent:, frame], reference[0])
    assert not x[1, latent:].any()
    concat.bank.clear()
    with pytest.raises(ValueError, match="reference_concat: no reference latents for 2 samples"):
        concat.denoiser_input(noisy)


def test_it_starts_as_the_plain_model(concat) -> None:
    plain = build_animate_anyone(named_model_config("tiny"))
    batch = _inputs(frames=1)
    losses = []
    with torch.no_grad():
        for model in (plain, concat):
            losses.append(model.training_loss(batch, "image", torch.Generator().manual_seed(3)))
    torch.testing.assert_close(losses[0], losses[1], rtol=1e-5, atol=1e-6)  # the widened weights are zero


def test_training_reaches_the_reference_input_weights() -> None:
    model = build_animate_anyone(_config(reference_concat=True))
    model.set_stage("image")
    model.training_loss(_inputs(frames=1), "image", torch.Generator().manual_seed(1)).backward()
    latent = model.codec.latent_channels
    grad = model.denoising_unet.conv_in.weight.grad
    assert grad is not None and grad[:, latent:].abs().sum() > 0


def test_the_pipeline_samples_through_the_reference_input() -> None:
    model = build_animate_anyone(_config(reference_concat=True))
    poses = torch.rand(3, 3, 128, 128, generator=torch.Generator().manual_seed(0))
    reference = np.random.default_rng(0).integers(0, 256, (128, 128, 3), dtype=np.uint8)

    def sample(m) -> np.ndarray:
        return AnimateAnyonePipeline(m)(
            reference, poses, num_inference_steps=2, generator=torch.Generator().manual_seed(4)
        )

    plain = sample(build_animate_anyone(named_model_config("tiny")))
    untrained = sample(model)
    assert untrained.shape == (3, 128, 128, 3) and np.array_equal(untrained, plain)  # zero weights: the plain model
    weights = model.denoising_unet.conv_in.weight
    with torch.no_grad():  # as if trained to read it: the video must then change
        weights[:, model.codec.latent_channels :] = torch.randn_like(weights[:, model.codec.latent_channels :])
    read = sample(model)
    assert not np.array_equal(read, plain) and np.array_equal(sample(model), read)
    assert model.bank.latents is None and len(model.bank) == 0  # cleared after the call
