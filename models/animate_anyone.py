"""AnimateAnyone (Hu et al. 2023) on diffusers components, as the public Moore-AnimateAnyone trains it.

A ReferenceNet reads the reference image (at timestep 0); the denoiser's self-attention reads the ReferenceNet's
(models.components.reference_attention); a PoseGuider adds the rendered skeleton's features after the denoiser's input
convolution; one CLIP image token of the reference feeds every cross-attention; temporal layers make it a video model.
Two stages: "image" trains the ReferenceNet, the denoiser's spatial layers and the PoseGuider on single frames, with
the temporal layers bypassed; "video" trains the temporal layers alone on clips.
"""

from __future__ import annotations

import copy
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers import MotionAdapter, UNetMotionModel
from torch import nn

from models.components.codecs import Codec
from models.components.image_encoder import ImageEncoder
from models.components.pose_guider import PoseGuider
from models.components.reference_attention import ReferenceBank, attach_reference_attention
from models.components.schedulers import min_snr_weights, offset_noise, training_scheduler
from models.components.unets import (
    features_added_after_conv_in,
    motion_adapter_for,
    temporal_layers_bypassed,
    unet2d_from_config,
    video_unet,
    widen_conv_in,
)
from models.config import ModelConfig
from models.weights import build_codec, check_matches, load_unet2d, resolve_pretrained

__all__ = ["STAGES", "AnimateAnyone", "build_animate_anyone", "build_animate_anyone_parts"]

STAGES = ("image", "video")


def _check_stage(stage: str) -> None:
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}; stages: {STAGES}")


class AnimateAnyone(nn.Module):
    def __init__(
        self,
        config: ModelConfig,
        codec: Codec,
        image_encoder: ImageEncoder,
        reference_unet: nn.Module,
        denoising_unet: UNetMotionModel,
        pose_guider: PoseGuider,
    ) -> None:
        super().__init__()
        self.config = config
        self.codec = codec
        self.image_encoder = image_encoder
        self.reference_unet = reference_unet
        self.denoising_unet = denoising_unet
        self.pose_guider = pose_guider
        self.bank = ReferenceBank()
        attach_reference_attention(reference_unet, denoising_unet, self.bank)
        self.noise_scheduler = training_scheduler(config.scheduler)
        self._check_shapes()

    def _check_shapes(self) -> None:
        unet, latent = self.denoising_unet.config, self.codec.latent_channels
        if unet.in_channels != latent * (1 + self.config.reference_concat) or unet.out_channels != latent:
            raise ValueError(f"codec gives {latent} latent channels, UNet takes {unet.in_channels} and gives "
                             f"{unet.out_channels} (reference_concat={self.config.reference_concat})")  # fmt: skip
        if self.pose_guider.downscale != self.codec.downscale:
            raise ValueError(f"PoseGuider downscales x{self.pose_guider.downscale}, the codec x{self.codec.downscale}")
        if self.image_encoder.embedding_dim != unet.cross_attention_dim:
            raise ValueError(f"image embedding {self.image_encoder.embedding_dim} != {unet.cross_attention_dim}")

    @property
    def device(self) -> torch.device:
        return self.pose_guider.device

    # --- stages ------------------------------------------------------------------------------------------------
    def trainable_parameters(self, stage: str) -> list[nn.Parameter]:
        """The parameters a stage trains. "image": the ReferenceNet but for its last up block and output layers (the
        anchor freezes them: nothing the denoiser reads depends on them), the denoiser's spatial layers and the
        PoseGuider. "video": the denoiser's temporal layers."""
        _check_stage(stage)
        temporal = [p for n, p in self.denoising_unet.named_parameters() if "motion_modules" in n]
        if stage == "video":
            return temporal
        last_up = f"up_blocks.{len(self.reference_unet.up_blocks) - 1}."
        unread = (last_up, "conv_norm_out.", "conv_out.")
        reference = [p for n, p in self.reference_unet.named_parameters() if not n.startswith(unread)]
        spatial = [p for n, p in self.denoising_unet.named_parameters() if "motion_modules" not in n]
        return reference + spatial + list(self.pose_guider.parameters())

    def set_stage(self, stage: str) -> None:
        """requires_grad on exactly the stage's trainable parameters."""
        trainable = {id(p) for p in self.trainable_parameters(stage)}
        for parameter in self.parameters():
            parameter.requires_grad_(id(parameter) in trainable)

    def enable_gradient_checkpointing(self) -> None:
        self.reference_unet.enable_gradient_checkpointing()
        self.denoising_unet.enable_gradient_checkpointing()

    # --- building blocks of training and sampling --------------------------------------------------------------
    def encode_frames(self, frames: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Frames [B, F, 3, H, W] in [-1, 1] -> latents [B, C, F, h, w] (the UNetMotionModel layout)."""
        b, f = frames.shape[:2]
        latents = self.codec.encode(frames.flatten(0, 1), generator)
        return latents.unflatten(0, (b, f)).transpose(1, 2)

    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """Latents [B, C, F, h, w] -> frames [B, F, 3, H, W] (about [-1, 1])."""
        b, f = latents.shape[0], latents.shape[2]
        return self.codec.decode(latents.transpose(1, 2).flatten(0, 1)).unflatten(0, (b, f))

    def write_reference(
        self, reference_latents: torch.Tensor, image_embeds: torch.Tensor, keep: torch.Tensor | None = None
    ) -> None:
        """Runs the ReferenceNet at timestep 0 on reference latents [B, C, h, w], filling the bank that the next
        denoiser calls read; `keep` ([B] bool) masks the reference out for some samples (classifier-free guidance)."""
        self.bank.clear()
        timestep = torch.zeros(reference_latents.shape[0], dtype=torch.long, device=reference_latents.device)
        self.reference_unet(reference_latents, timestep, encoder_hidden_states=image_embeds, return_dict=False)
        # All kept: no mask at all (and no per-layer check of it).
        self.bank.keep = None if keep is None or bool(keep.all()) else keep
        if self.config.reference_concat:  # a dropped reference is zeros, as widened inputs start
            kept = 1.0 if keep is None else keep.to(reference_latents.dtype)[:, None, None, None]
            self.bank.latents = reference_latents * kept

    def denoise(
        self,
        noisy_latents: torch.Tensor,
        timesteps: torch.Tensor,
        image_embeds: torch.Tensor,
        pose_features: torch.Tensor,
        temporal: bool = True,
        **inputs: torch.Tensor | None,
    ) -> torch.Tensor:
        """The denoiser's prediction for latents [B, C, F, h, w], reading the bank; `pose_features` from
        `pose_features()` (or a subclass's conditioning features); temporal=False bypasses the temporal layers (each
        frame on its own); `inputs`: a subclass's extra inputs of `denoiser_input`."""
        frames = noisy_latents.shape[2]
        embeds = image_embeds.repeat_interleave(frames, dim=0)  # cross-attention rows are (sample, frame)
        x = self.denoiser_input(noisy_latents, **inputs)
        with self.denoiser_context(pose_features):
            with features_added_after_conv_in(self.denoising_unet, pose_features):
                with temporal_layers_bypassed(self.denoising_unet, not temporal):
                    return self.denoising_unet(x, timesteps, encoder_hidden_states=embeds).sample

    def pose_features(self, pose_images: torch.Tensor) -> torch.Tensor:
        """Pose images [B, F, 3, H, W] in [0, 1] -> PoseGuider features [(B F), C, h, w]."""
        return self.pose_guider(pose_images.flatten(0, 1).to(self.pose_guider.dtype))

    # --- training ----------------------------------------------------------------------------------------------
    def forward(self, batch: dict, stage: str, generator: torch.Generator) -> torch.Tensor:
        """`training_loss`: calling the module (not the method) lets DistributedDataParallel sync gradients. Every
        trainable parameter of the stage gets a gradient on every step (dropped references are masked, not
        skipped), so DDP needs no find_unused_parameters."""
        return self.training_loss(batch, stage, generator)

    def training_loss(self, batch: dict, stage: str, generator: torch.Generator) -> torch.Tensor:
        """The diffusion loss of one batch (see models/data: frames, pose_images, reference). Every random draw
        (latent sampling, noise, timesteps, the reference drop) comes from `generator`, in a fixed order, on the
        generator's device, so a run is reproducible whatever device the model is on."""
        _check_stage(stage)
        device, config = self.device, self.config
        frames = batch["frames"].to(device, torch.float32)
        pose_images = batch["pose_images"].to(device, torch.float32)
        reference = batch["reference"].to(device, torch.float32)
        b = frames.shape[0]

        def draw(fn, *args, **kwargs):
            return fn(*args, generator=generator, device=generator.device, **kwargs).to(device)

        with torch.no_grad():
            latents = self.encode_frames(frames, generator)
            reference_latents = self.codec.encode(reference, generator)
        keep = draw(torch.rand, b) >= config.reference_drop
        noise = offset_noise(latents.shape, config.scheduler.noise_offset, generator, generator.device).to(device)
        timesteps = draw(torch.randint, 0, config.scheduler.num_train_timesteps, (b,))
        # Drawn after the baseline's draws, so the baseline's stream of random numbers is what it always was.
        extra = self.draw_training_inputs(batch, stage, latents, draw)
        with torch.no_grad():
            image_embeds = self.image_tokens(reference, batch, extra)
        image_embeds = image_embeds * keep[:, None, None]  # dropped: a zero image token, as at inference

        scheduler = self.noise_scheduler
        noisy = scheduler.add_noise(latents, noise, timesteps)
        prediction_type = config.scheduler.prediction_type
        if prediction_type == "epsilon":
            target = noise
        elif prediction_type == "sample":
            target = latents
        else:
            target = scheduler.get_velocity(latents, noise, timesteps)

        frozen_conditioning = torch.no_grad() if stage == "video" else nullcontext()
        with frozen_conditioning:
            self.write_reference(reference_latents, image_embeds, keep)
            pose_features = self.pose_features(pose_images)
        features = self.conditioning_features(pose_features, batch, stage)
        prediction = self.denoise(
            noisy, timesteps, image_embeds, features, temporal=stage == "video", **self.denoise_inputs(extra)
        )

        per_sample = F.mse_loss(prediction.float(), target.float(), reduction="none").mean(dim=(1, 2, 3, 4))
        loss = (per_sample * min_snr_weights(scheduler, timesteps, config.scheduler.snr_gamma)).mean()
        return loss + self.auxiliary_loss(batch, stage)

    # --- what the background-aware models add (models.disentangled, models.animate_anywhere) -------------------
    def draw_training_inputs(self, batch: dict, stage: str, latents: torch.Tensor, draw) -> dict:
        """Inputs a subclass draws at random for a training step (after the baseline's own draws); none here."""
        return {}

    def image_tokens(self, reference: torch.Tensor, batch: dict, extra: dict) -> torch.Tensor:
        """Cross-attention tokens [B, n, D] of a training step: one CLIP token of the reference."""
        return self.image_encoder(reference)

    def conditioning_features(self, pose_features: torch.Tensor, batch: dict, stage: str) -> torch.Tensor:
        """The features added after the denoiser's input convolution: the PoseGuider's."""
        return pose_features

    def denoise_inputs(self, extra: dict) -> dict:
        """Keyword arguments of `denoise` from the drawn inputs; none here."""
        return {}

    def denoiser_input(self, noisy_latents: torch.Tensor) -> torch.Tensor:
        """What the denoiser reads, from the noisy latents [B, C, F, h, w] and `denoise`'s extra inputs: the noisy
        latents, and with `reference_concat` the reference latents of the last `write_reference` on every frame."""
        if not self.config.reference_concat:
            return noisy_latents
        reference = self.bank.latents
        if reference is None or reference.shape[0] != noisy_latents.shape[0]:
            shape = None if reference is None else tuple(reference.shape)
            raise ValueError(f"reference_concat: no reference latents for {len(noisy_latents)} samples, got {shape}")
        frames = reference[:, :, None].expand(-1, -1, noisy_latents.shape[2], -1, -1).to(noisy_latents.dtype)
        return torch.cat([noisy_latents, frames], dim=1)

    def denoiser_context(self, pose_features: torch.Tensor | None) -> AbstractContextManager:
        """Entered around every denoiser call, with the features `denoise` adds; nothing here."""
        return nullcontext()

    def auxiliary_loss(self, batch: dict, stage: str) -> torch.Tensor | float:
        """A loss added to the diffusion loss (read after the denoiser ran); none here."""
        return 0.0


def build_animate_anyone(
    config: ModelConfig, weights_dir: str | Path | None = None, random_init: bool = False
) -> AnimateAnyone:
    """The model a config describes. Parts with a `pretrained` folder load from it (relative to `weights_dir`,
    default `backdrop weights`'s directory) with local_files_only=True; the others, and all of them when
    `random_init` (speed checks without weights), are initialised randomly from the config, seeded by config.seed."""
    extra_inputs = int(config.reference_concat)
    return AnimateAnyone(config, *build_animate_anyone_parts(config, weights_dir, random_init, extra_inputs))


def build_animate_anyone_parts(
    config: ModelConfig, weights_dir: str | Path | None = None, random_init: bool = False, extra_latent_inputs: int = 0
) -> tuple[Codec, ImageEncoder, nn.Module, UNetMotionModel, PoseGuider]:
    """(codec, image encoder, ReferenceNet, denoiser, PoseGuider) as `build_animate_anyone` makes them; the
    denoiser's input convolution reads `extra_latent_inputs` more latent-sized inputs (zero weights), for the
    models that concatenate a condition with the noisy latents."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        if config.unet.pretrained and not random_init:
            unet2d = load_unet2d(resolve_pretrained(config.unet.pretrained, weights_dir, "unet"), config.unet.config)
        else:
            unet2d = unet2d_from_config(config.unet.config)
        if config.motion.pretrained and not random_init:
            path = resolve_pretrained(config.motion.pretrained, weights_dir, "motion")
            adapter = MotionAdapter.from_pretrained(str(path), local_files_only=True)
            check_matches(adapter.config, {"motion_max_seq_length": config.motion.max_seq_length}, path)
        else:
            adapter = motion_adapter_for(unet2d, config.motion)
        if config.image_encoder.pretrained and not random_init:
            path = resolve_pretrained(config.image_encoder.pretrained, weights_dir, "image_encoder")
            image_encoder = ImageEncoder.from_pretrained(path)
        else:
            image_encoder = ImageEncoder.from_config(config.image_encoder.config)
        pose_guider = PoseGuider(
            unet2d.config.block_out_channels[0],
            config.pose_guider.conditioning_channels,
            tuple(config.pose_guider.block_out_channels),
        )
        codec = build_codec(config.codec, weights_dir, random_init)
    # The ReferenceNet starts from the same weights as the denoiser's spatial layers (both from SD in the anchor).
    reference_unet = copy.deepcopy(unet2d)
    if extra_latent_inputs:
        widen_conv_in(unet2d, extra_latent_inputs * codec.latent_channels)
    return codec, image_encoder, reference_unet, video_unet(unet2d, adapter), pose_guider
