"""The disentangled model on a micro configuration: clip-by-clip generation hands the last frame over (the next
clip's first frame equals it: the exact pixel-unshuffle codec is the identity stand-in for a VAE's round trip);
the handed-over frame and the track maps reach the denoiser; the ablation switches change what they say; each
stage's loss falls over a few dozen steps and reaches exactly the stage's parameters."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from models.disentangled import DisentangledAnimator
from models.pipelines.pipeline_disentangled import DisentangledPipeline, clip_spans
from models.registry import background_inputs_for, build_model
from tests.helpers.models import micro_config, random_batch, steps_lower_the_loss


@pytest.fixture(scope="module")
def model() -> DisentangledAnimator:
    built = build_model(micro_config("disentangled"))
    with torch.no_grad():  # trained-looking weights: the zero-initialised parts start to matter
        torch.manual_seed(0)
        for module in (built.track_guider.controlnet_cond_embedding.conv_out, built.motion_block.conv_out):
            module.weight.normal_(0, 0.1)
        built.denoising_unet.conv_in.weight[:, 192:].normal_(0, 0.1)
    return built.eval()


def _inputs(frames: int, seed: int = 0) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    reference = (torch.rand(64, 64, 3, generator=g) * 255).to(torch.uint8).numpy()
    return reference, torch.rand(frames, 3, 64, 64, generator=g), torch.rand(frames, 3, 64, 64, generator=g)


def test_clip_spans() -> None:
    assert clip_spans(10, 4, True) == [range(0, 4), range(3, 7), range(6, 10)]
    assert clip_spans(10, 4, False) == [range(0, 4), range(4, 8), range(8, 10)]
    assert clip_spans(3, 4, True) == [range(0, 3)]
    with pytest.raises(ValueError):
        clip_spans(10, 1, True)


def test_clip_by_clip_generation_hands_the_last_frame_over(model: DisentangledAnimator) -> None:
    reference, poses, maps = _inputs(10)
    pipeline = DisentangledPipeline(model)
    settings = {"num_inference_steps": 3, "guidance_scale": 2.0}
    clips = pipeline(reference, poses, maps, generator=torch.Generator().manual_seed(1), return_clips=True, **settings)
    assert [len(c) for c in clips] == [4, 4, 4]
    for previous, following in itertools.pairwise(clips):
        assert np.array_equal(following[0], previous[-1])  # the seam frame, exactly (an exact codec)
        assert not np.array_equal(following[1], previous[-1])
    video = pipeline(reference, poses, maps, generator=torch.Generator().manual_seed(1), **settings)
    assert video.shape == (10, 64, 64, 3)
    assert np.array_equal(video, np.concatenate([clips[0], clips[1][1:], clips[2][1:]]))


def test_the_handed_over_frame_and_the_track_maps_reach_the_denoiser(model: DisentangledAnimator) -> None:
    batch = random_batch(4, channels=3)
    noisy = torch.randn(2, 192, 4, 8, 8, generator=torch.Generator().manual_seed(2))
    t = torch.tensor([500, 500])
    tokens = model.tokens(batch["reference"], None)
    assert tokens.shape == (2, 2, 32)  # the clip's token and the first reference's (the global feature)
    with torch.no_grad():
        model.write_reference(model.codec.encode(batch["reference"]), tokens)
        features = model.combine(
            model.pose_features(batch["pose_images"]), model.track_features(batch["track_maps"]), 4
        )
        without = model.denoise(noisy, t, tokens, features)
        handed = model.denoise(noisy, t, tokens, features, handover_latents=noisy[:, :, 0])
        other_maps = model.combine(
            model.pose_features(batch["pose_images"]), model.track_features(batch["track_maps"] * 0), 4
        )
        no_tracks = model.denoise(noisy, t, tokens, other_maps)
    assert (handed - without).abs().mean() > 1e-4 and (no_tracks - without).abs().mean() > 1e-5


def test_ablation_switches() -> None:
    switches = {"last_frame_concat": False, "global_feature": False, "temporal_motion_block": False,
                "inverse_mask": False}  # fmt: skip
    no_concat = build_model(micro_config("disentangled", disentangled=switches))
    assert no_concat.denoising_unet.config.in_channels == 192 and no_concat.motion_block is None
    assert no_concat.tokens(torch.zeros(1, 3, 64, 64), None).shape == (1, 1, 32)
    assert background_inputs_for(no_concat.config).inverse_mask is False
    variant = build_model(micro_config("disentangled", disentangled={"warped_reference": True}))
    assert variant.track_guider.config.conditioning_channels == 7
    assert variant.denoising_unet.config.in_channels == 3 * 192  # noisy, handed-over and warped latents
    assert build_model(micro_config("disentangled")).denoising_unet.config.in_channels == 384


def test_each_stage_trains_and_the_loss_falls() -> None:
    model = build_model(micro_config("disentangled"))
    image = random_batch(1, channels=3, seed=3)
    start, end = steps_lower_the_loss(model, image, "image", 20)
    assert end < 0.85 * start, (start, end)
    video = random_batch(4, channels=3, seed=4)
    model.zero_grad(set_to_none=True)
    model.set_stage("video")
    loss = model.training_loss(video, "video", torch.Generator().manual_seed(5))
    loss.backward()
    trainable = {id(p) for p in model.trainable_parameters("video")}
    assert {id(p) for p in model.motion_block.parameters()} <= trainable
    assert all(p.grad is not None for p in model.trainable_parameters("video"))
    assert all(p.grad is None for p in model.parameters() if id(p) not in trainable)
    model.zero_grad()
    start, end = steps_lower_the_loss(model, video, "video", 20)
    assert end < start, (start, end)


def test_the_variant_feeds_the_warped_reference_to_the_denoiser_as_latents() -> None:
    variant = build_model(micro_config("disentangled", disentangled={"warped_reference": True})).eval()
    batch = random_batch(4, channels=7, seed=6)
    maps = batch["track_maps"]
    warped = variant.warped_latents(maps)
    assert warped.shape == (2, 192, 4, 8, 8)
    # the exact codec: a latent vector is one 8x8 patch of the masked warped colour, mid-grey (0) where invalid
    patch = (maps[1, 2, 3:6, :8, :8] * 2 - 1) * maps[1, 2, 6, :8, :8]
    torch.testing.assert_close(warped[1, :, 2, 0, 0].view(3, 8, 8), patch)
    with torch.no_grad():
        variant.denoising_unet.conv_in.weight[:, 384:].normal_(0, 0.1)  # trained-looking: the input matters
        noisy = torch.randn(2, 192, 4, 8, 8, generator=torch.Generator().manual_seed(7))
        t, tokens = torch.tensor([500, 500]), variant.tokens(batch["reference"], None)
        variant.write_reference(variant.codec.encode(batch["reference"]), tokens)
        features = variant.combine(variant.pose_features(batch["pose_images"]), variant.track_features(maps), 4)
        seen = variant.denoise(noisy, t, tokens, features, warped_latents=warped)
        other = variant.denoise(noisy, t, tokens, features, warped_latents=torch.zeros_like(warped))
        assert (seen - other).abs().mean() > 1e-4
        with pytest.raises(ValueError, match="warped latents"):
            variant.denoise(noisy, t, tokens, features)
    video = DisentangledPipeline(variant)(
        batch["reference"][0], batch["pose_images"][0], maps[0], num_inference_steps=2, guidance_scale=2.0
    )
    assert video.shape == (4, 64, 64, 3)
    start, end = steps_lower_the_loss(variant, random_batch(1, channels=7, seed=8), "image", 20)
    assert end < 0.85 * start, (start, end)
