"""The shared parts on the tiny configuration: exact codec, PoseGuider and temporal layers that start as no-ops, and
reference attention that depends on the reference and on nothing else."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from models.animate_anyone import build_animate_anyone
from models.components.codecs import DctCodec, PixelUnshuffleCodec, dct_basis
from models.components.unets import temporal_layers, temporal_layers_bypassed
from models.config import named_model_config


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return build_animate_anyone(named_model_config("tiny")).eval()


def _inputs(model, frames: int = 3, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    c = model.codec.latent_channels
    return {
        "latents": torch.randn(1, c, frames, 16, 16, generator=g),
        "timesteps": torch.tensor([500]),
        "embeds": torch.randn(1, 1, 64, generator=g),
        "poses": torch.rand(1, frames, 3, 128, 128, generator=g),
        "reference": torch.randn(1, c, 16, 16, generator=g),
    }


def test_pixel_unshuffle_round_trip_is_exact() -> None:
    codec = PixelUnshuffleCodec(8, scale=2.0)
    images = torch.rand(2, 3, 128, 128) * 2 - 1
    latents = codec.encode(images)
    assert latents.shape == (2, 192, 16, 16)
    assert torch.equal(codec.decode(latents), images)
    # each latent vector is one 8x8 patch: the top-left latent holds the top-left patch, times the scale
    assert torch.equal(latents[0, :, 0, 0].view(3, 8, 8), images[0, :, :8, :8] * 2)


def test_dct_codec_is_an_orthonormal_projection_on_low_frequencies() -> None:
    basis = dct_basis(8, 16, 16).double()
    assert basis.shape == (48, 192)
    torch.testing.assert_close(basis @ basis.T, torch.eye(48, dtype=torch.float64), atol=1e-6, rtol=0)
    codec = DctCodec(8, luma=16, chroma=16, scale=2.0)
    assert (codec.latent_channels, codec.downscale) == (48, 8)
    latents = torch.randn(2, 48, 4, 5, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(codec.encode(codec.decode(latents)), latents, atol=1e-5, rtol=0)
    images = torch.rand(2, 3, 32, 40, generator=torch.Generator().manual_seed(1)) * 2 - 1
    projected = codec.decode(codec.encode(images))
    torch.testing.assert_close(codec.decode(codec.encode(projected)), projected, atol=1e-5, rtol=0)
    # the residual is orthogonal to what is kept (a projection), so it costs energy and never adds any
    assert float((projected * (images - projected)).sum()).__abs__() < 1e-2
    assert float(projected.square().sum()) < float(images.square().sum())
    # an image made of flat colour plus slow ramps inside each patch keeps within 0.02 of itself
    y, x = torch.meshgrid(torch.arange(32.0), torch.arange(40.0), indexing="ij")
    smooth = torch.stack([0.2 + 0.01 * (x % 8), -0.3 + 0.02 * (y % 8), 0.1 * torch.ones_like(x)])[None]
    lowest = codec.decode(codec.encode(smooth))
    assert float((lowest - smooth).abs().max()) < 0.02 < float((smooth - smooth.mean()).abs().max())
    # the first luminance coefficient is the patch's mean luminance times factor * sqrt(3) (orthonormal DC), times the
    # scale
    flat = torch.full((1, 3, 8, 8), 0.5)
    torch.testing.assert_close(codec.encode(flat)[0, :, 0, 0][0], torch.tensor(0.5 * 8 * 3**0.5 * 2.0))
    assert float(codec.encode(flat)[0, 1:].abs().max()) < 1e-5
    with pytest.raises(ValueError, match=r"keep 1\.\.64"):
        dct_basis(8, 0, 4)


@torch.no_grad()
def test_pose_guider_starts_at_zero(model) -> None:
    x = _inputs(model)
    features = model.pose_features(x["poses"])
    assert features.shape == (3, 64, 16, 16) and not features.any()
    model.bank.clear()
    with_pose = model.denoise(x["latents"], x["timesteps"], x["embeds"], features)
    without = model.denoise(x["latents"], x["timesteps"], x["embeds"], None)
    assert torch.equal(with_pose, without)
    # and a non-zero feature map does change the output: the hook is really on the forward path
    changed = model.denoise(x["latents"], x["timesteps"], x["embeds"], torch.ones_like(features))
    assert not torch.allclose(changed, without)


@torch.no_grad()
def test_temporal_layers_are_identities_at_initialisation(model) -> None:
    x = _inputs(model, frames=4)
    model.bank.clear()
    video = model.denoise(x["latents"], x["timesteps"], x["embeds"], None, temporal=True)
    per_frame = torch.cat(
        [model.denoise(x["latents"][:, :, i : i + 1], x["timesteps"], x["embeds"], None) for i in range(4)], dim=2
    )
    torch.testing.assert_close(video, per_frame, rtol=0, atol=1e-5)
    # the ReferenceNet (a UNet2DConditionModel with the same initial weights) computes the same thing frame by frame
    unet2d = model.reference_unet
    saved = unet2d.attn_processors
    from diffusers.models.attention_processor import AttnProcessor2_0

    unet2d.set_attn_processor(AttnProcessor2_0())
    try:
        frames = x["latents"][0].transpose(0, 1)
        plain = unet2d(frames, x["timesteps"].expand(4), encoder_hidden_states=x["embeds"].expand(4, 1, 64)).sample
    finally:
        unet2d.set_attn_processor(saved)
    torch.testing.assert_close(video[0].transpose(0, 1), plain, rtol=0, atol=1e-5)


@torch.no_grad()
def test_bypassed_temporal_layers_compute_nothing_even_when_trained() -> None:
    model = build_animate_anyone(named_model_config("tiny")).eval()
    x = _inputs(model, frames=3)
    model.bank.clear()
    before = model.denoise(x["latents"], x["timesteps"], x["embeds"], None, temporal=False)
    for layer in temporal_layers(model.denoising_unet):
        torch.nn.init.normal_(layer.proj_out.weight, std=0.1)
    after = model.denoise(x["latents"], x["timesteps"], x["embeds"], None, temporal=False)
    mixed = model.denoise(x["latents"], x["timesteps"], x["embeds"], None, temporal=True)
    assert torch.equal(before, after)
    assert not torch.allclose(mixed, after, atol=1e-4)
    with temporal_layers_bypassed(model.denoising_unet):
        pass
    assert all("forward" not in vars(layer) for layer in temporal_layers(model.denoising_unet))  # restored


@torch.no_grad()
def test_reference_attention_follows_the_reference_and_nothing_else(model) -> None:
    x = _inputs(model)
    other = _inputs(model, seed=1)["reference"]

    def run(reference, keep=None):
        model.write_reference(reference, x["embeds"], keep)
        return model.denoise(x["latents"], x["timesteps"], x["embeds"], None)

    first = run(x["reference"])
    assert len(model.bank) == len([n for n in model.reference_unet.attn_processors if n.endswith("attn1.processor")])
    assert torch.equal(run(x["reference"]), first)  # same reference: identical output
    assert not torch.allclose(run(other), first, atol=1e-4)  # another reference: another output
    model.bank.clear()
    no_reference = model.denoise(x["latents"], x["timesteps"], x["embeds"], None)
    assert not torch.allclose(no_reference, first, atol=1e-4)
    # a masked-out reference is exactly no reference (the unconditional half of guidance, the 10% drop)
    masked = run(other, keep=torch.tensor([False]))
    torch.testing.assert_close(masked, no_reference, rtol=0, atol=1e-5)


@torch.no_grad()
def test_reference_is_repeated_per_sample_and_frame(model) -> None:
    """Two samples with different references in one batch each see their own reference."""
    a, b = _inputs(model, seed=2), _inputs(model, seed=3)
    latents = torch.cat([a["latents"], a["latents"]])
    embeds = torch.cat([a["embeds"], a["embeds"]])
    model.write_reference(torch.cat([a["reference"], b["reference"]]), embeds)
    pair = model.denoise(latents, a["timesteps"].expand(2), embeds, None)
    model.write_reference(b["reference"], a["embeds"])
    single = model.denoise(a["latents"], a["timesteps"], a["embeds"], None)
    torch.testing.assert_close(pair[1:], single, rtol=0, atol=1e-5)
    assert not torch.allclose(pair[0], pair[1], atol=1e-4)


def test_schedules_have_zero_terminal_snr_and_min_snr_weights() -> None:
    from models.components.schedulers import inference_scheduler, min_snr_weights, offset_noise, training_scheduler

    config = named_model_config("tiny").scheduler
    train, sample = training_scheduler(config), inference_scheduler(config)
    assert float(train.alphas_cumprod[-1]) < 1e-6  # zero terminal SNR: pure noise at the last step
    sample.set_timesteps(4)
    assert sample.timesteps.tolist() == [999, 749, 499, 249]  # trailing spacing starts at the zero-SNR step
    weights = min_snr_weights(train, torch.tensor([0, 500, 999]), 5.0)
    alpha = train.alphas_cumprod[0].double()
    torch.testing.assert_close(weights[0], (5 / (alpha / (1 - alpha) + 1)).float())  # high SNR: down-weighted
    assert float(weights[2]) == 1.0  # v-prediction at zero SNR: min(0 + 1, 5) / 1
    assert torch.equal(min_snr_weights(train, torch.tensor([3, 7]), None), torch.ones(2))
    x0 = training_scheduler(dataclasses.replace(config, prediction_type="sample"))
    weights = min_snr_weights(x0, torch.tensor([0, 999]), 5.0)
    assert float(weights[0]) == 5.0 and float(weights[1]) < 1e-6  # x0 loss: min(SNR, 5), nothing at zero SNR
    g = torch.Generator().manual_seed(0)
    noise = offset_noise((2, 4, 3, 8, 8), 0.0, g)
    offset = offset_noise((2, 4, 3, 8, 8), 1.0, torch.Generator().manual_seed(0)) - noise
    assert torch.allclose(offset, offset[:, :, :1, :1, :1].expand_as(offset))  # one value per (sample, channel)
    assert float(offset.abs().max()) > 0
