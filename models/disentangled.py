"""The disentangled foreground/background model (arXiv 2405.16393) on the baseline's shared parts.

Beside AnimateAnyone's PoseGuider (the person), a track guider (the same ControlNet conditioning embedding) encodes
the clip's sparse background tracks multiplied by the inverse foreground mask, rendered as a map over time
(models.data.background); both encoders' features are summed, mixed along time by a Temporal Motion Block, and added
to the noisy latent's features after the denoiser's input convolution ("dual encoders added to the noisy latent").
Long videos are generated clip by clip: the last frame of the previous clip is concatenated (as latents, along
channels) with the noisy latents of the next, whose first frame it becomes; a CLIP token of the first reference is
injected at every clip beside the clip's own (the handed-over frame's). backdrop's variant (`warped_reference`) also
feeds the reference, person masked out, warped by a homography fitted to the sampled tracks: to the track guider (4
more channels of its map) and, as latents, concatenated with the noisy latents like the handed-over frame (extra
input channels of the denoiser: where the background goes is then an input the denoiser can copy).

Stages: "image" trains the baseline's image-stage parts and the track guider (no handover: the extra input channels
are zero); "video" trains the temporal layers, the Temporal Motion Block and the denoiser's input convolution (which
reads the handed-over frame).
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import torch
from torch import nn

from models.animate_anyone import AnimateAnyone, build_animate_anyone_parts
from models.components.pose_guider import PoseGuider
from models.components.temporal_motion_block import TemporalMotionBlock
from models.config import ModelConfig
from models.data.background import BackgroundInputs, track_guider_channels

__all__ = ["DisentangledAnimator", "background_inputs", "build_disentangled"]


def background_inputs(config) -> BackgroundInputs:
    """What the data pipeline renders for a disentangled model's config (models.config.DisentangledConfig)."""
    d = config.disentangled
    return BackgroundInputs(
        track_maps=True,
        tracks_min=d.tracks_min,
        tracks_max=d.tracks_max,
        inverse_mask=d.inverse_mask,
        track_sigma=d.track_sigma,
        warped_reference=d.warped_reference,
    )


class DisentangledAnimator(AnimateAnyone):
    def __init__(self, *parts, track_guider: PoseGuider, motion_block: TemporalMotionBlock | None) -> None:
        super().__init__(*parts)
        self.track_guider = track_guider
        self.motion_block = motion_block
        self.background = background_inputs(self.config)

    def _check_shapes(self) -> None:
        unet = self.denoising_unet.config
        latent = self.codec.latent_channels
        d = self.config.disentangled
        if unet.in_channels != latent * (1 + extra_latent_inputs(self.config)) or unet.out_channels != latent:
            raise ValueError(f"UNet in/out channels {unet.in_channels}/{unet.out_channels} for {latent} latent "
                             f"channels (last_frame_concat={d.last_frame_concat}, "
                             f"warped_reference={d.warped_reference})")  # fmt: skip

    # --- stages ------------------------------------------------------------------------------------------------
    def trainable_parameters(self, stage: str) -> list[nn.Parameter]:
        parameters = super().trainable_parameters(stage)
        if stage == "image":
            return parameters + list(self.track_guider.parameters())
        block = list(self.motion_block.parameters()) if self.motion_block is not None else []
        conv_in = list(self.denoising_unet.conv_in.parameters()) if self.config.disentangled.last_frame_concat else []
        return parameters + block + conv_in

    # --- conditioning ------------------------------------------------------------------------------------------
    def track_features(self, track_maps: torch.Tensor) -> torch.Tensor:
        """Track maps [B, F, C, H, W] -> track guider features [(B F), C', h, w]."""
        return self.track_guider(track_maps.flatten(0, 1).to(self.track_guider.dtype))

    def combine(self, pose_features: torch.Tensor, track_features: torch.Tensor, frames: int) -> torch.Tensor:
        features = pose_features + track_features
        return self.motion_block(features, frames) if self.motion_block is not None else features

    def tokens(self, reference: torch.Tensor, handover: torch.Tensor | None) -> torch.Tensor:
        """Cross-attention tokens [B, n, D]: the handed-over frame's CLIP token (the reference's when there is none)
        and, with the global feature, the first reference's beside it."""
        local = self.image_encoder(handover if handover is not None else reference)
        if not self.config.disentangled.global_feature:
            return local
        return torch.cat([local, self.image_encoder(reference)], dim=1)

    def warped_latents(self, track_maps: torch.Tensor) -> torch.Tensor:
        """The warped reference of track maps [B, F, 7, H, W] (channels 3-5 its colour in [0, 1], 6 its validity),
        mid-grey where nothing lands, as latents [B, C, F, h, w]."""
        maps = track_maps.to(self.device, torch.float32)
        images = (maps[:, :, 3:6] * 2 - 1) * maps[:, :, 6:7]
        return self.encode_frames(images)

    def denoiser_input(
        self,
        noisy_latents: torch.Tensor,
        handover_latents: torch.Tensor | None = None,
        warped_latents: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The denoiser's input (`denoise(..., handover_latents=, warped_latents=)`): noisy latents [B, C, F, h, w],
        then, when the config says so, the handed-over frame's latents [B, C, h, w] (zeros for none) repeated over
        the frames, and the warped reference's latents [B, C, F, h, w], along channels. `denoise`'s `pose_features`
        are the combined guider features."""
        d = self.config.disentangled
        inputs = [noisy_latents]
        if d.last_frame_concat:
            if handover_latents is None:
                inputs.append(torch.zeros_like(noisy_latents))
            else:
                inputs.append(handover_latents[:, :, None].expand_as(noisy_latents).to(noisy_latents.dtype))
        if d.warped_reference:
            if warped_latents is None or warped_latents.shape != noisy_latents.shape:
                shape = None if warped_latents is None else tuple(warped_latents.shape)
                raise ValueError(f"warped_reference needs warped latents {tuple(noisy_latents.shape)}, got {shape}")
            inputs.append(warped_latents.to(noisy_latents.dtype))
        return torch.cat(inputs, dim=1) if len(inputs) > 1 else noisy_latents

    # --- training hooks (AnimateAnyone.training_loss) ----------------------------------------------------------
    def draw_training_inputs(self, batch: dict, stage: str, latents: torch.Tensor, draw) -> dict:
        """The handed-over frame: the window's first target frame (its latents; the model learns to continue
        from it), in the video stage and for all but `handover_drop` of the samples; never in the image stage."""
        b = latents.shape[0]
        given = draw(torch.rand, b) >= self.config.disentangled.handover_drop
        if stage != "video" or not self.config.disentangled.last_frame_concat:
            given = torch.zeros_like(given)
        handover = latents[:, :, 0] * given[:, None, None, None]
        extra = {"given": given, "handover_latents": handover}
        if self.config.disentangled.warped_reference:
            with torch.no_grad():
                extra["warped_latents"] = self.warped_latents(batch["track_maps"])
        return extra

    def image_tokens(self, reference: torch.Tensor, batch: dict, extra: dict) -> torch.Tensor:
        first = batch["frames"][:, 0].to(reference)
        given = extra["given"].to(reference.device)
        handover = torch.where(given[:, None, None, None], first, reference)
        return self.tokens(reference, handover)

    def conditioning_features(self, pose_features: torch.Tensor, batch: dict, stage: str) -> torch.Tensor:
        track_maps = batch["track_maps"].to(self.device, torch.float32)
        with torch.no_grad() if stage == "video" else nullcontext():
            track = self.track_features(track_maps)
        return self.combine(pose_features, track, track_maps.shape[1])

    def denoise_inputs(self, extra: dict) -> dict:
        return {"handover_latents": extra["handover_latents"], "warped_latents": extra.get("warped_latents")}


def extra_latent_inputs(config: ModelConfig) -> int:
    """How many latent-sized inputs a disentangled config concatenates with the noisy latents."""
    d = config.disentangled
    return int(d.last_frame_concat) + int(d.warped_reference)


def build_disentangled(
    config: ModelConfig, weights_dir: str | Path | None = None, random_init: bool = False
) -> DisentangledAnimator:
    """The disentangled model a config describes: the baseline's parts (as `build_animate_anyone` makes them; the
    denoiser's input convolution widened for the handed-over frame and the warped reference), a track guider and a
    Temporal Motion Block, randomly initialised from config.seed."""
    d = config.disentangled
    parts = build_animate_anyone_parts(config, weights_dir, random_init, extra_latent_inputs(config))
    embedding = parts[3].config.block_out_channels[0]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed + 1)
        track_guider = PoseGuider(embedding, track_guider_channels(background_inputs(config)), d.track_guider_channels)
        block = TemporalMotionBlock(embedding) if d.temporal_motion_block else None
    return DisentangledAnimator(config, *parts, track_guider=track_guider, motion_block=block)
