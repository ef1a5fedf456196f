"""AnimateAnyonePipeline: a reference image and a rendered pose sequence -> a video, any length.

The ReferenceNet runs once per video (it sees the reference at timestep 0, so its features do not change between
steps); each denoising step walks the overlapping temporal windows (models.pipelines.context) with classifier-free
guidance (the unconditional half has no reference and a zero image token, as 10% of training steps had), blends the
windows' predictions and takes one DDIM step on the whole video. Every random draw comes from `generator`.
"""

from __future__ import annotations

import numpy as np
import torch

from models.animate_anyone import AnimateAnyone
from models.pipelines.base import AnimationPipeline, as_poses, as_reference, as_uint8_frames
from models.pipelines.context import blend_windows, context_windows

__all__ = ["AnimateAnyonePipeline"]


class AnimateAnyonePipeline(AnimationPipeline):
    """`pipeline(reference_image, pose_sequence) -> uint8 [T, H, W, 3]` at the pose sequence's size."""

    model: AnimateAnyone

    @torch.no_grad()
    def __call__(
        self,
        reference_image: np.ndarray | torch.Tensor,
        pose_sequence: np.ndarray | torch.Tensor,
        *,
        num_inference_steps: int = 25,
        guidance_scale: float = 3.5,
        generator: torch.Generator | None = None,
        context_frames: int | None = None,
        context_overlap: int | None = None,
        latents: torch.Tensor | None = None,
    ) -> np.ndarray:
        """`latents`: the initial noise [1, C, T, h, w] (default: drawn from `generator`)."""
        model, config = self.model, self.model.config
        device = model.device
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        context_frames = context_frames or config.context_frames
        context_overlap = config.context_overlap if context_overlap is None else context_overlap
        poses = as_poses(pose_sequence)
        num_frames, height, width = poses.shape[0], poses.shape[2], poses.shape[3]
        self.check_frame_size(height, width)
        down = model.codec.downscale
        windows = context_windows(num_frames, context_frames, context_overlap)

        with self.sampling():
            reference = as_reference(reference_image, (height, width)).to(device)
            image_embeds = model.image_encoder(reference)
            reference_latents = model.codec.encode(reference, generator)
            image_embeds = self.write_reference(reference_latents, image_embeds, guided=guidance_scale > 1)

            shape = (1, model.codec.latent_channels, num_frames, height // down, width // down)
            if latents is None:
                latents = torch.randn(shape, generator=generator, device=generator.device)
            elif tuple(latents.shape) != shape:
                raise ValueError(f"latents must be {shape}, got {tuple(latents.shape)}")
            latents = latents.to(device) * self.scheduler.init_noise_sigma

            def predict(x: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
                def predict_window(window: range) -> torch.Tensor:
                    pose_features = model.pose_features(poses[None, window.start : window.stop].to(device))
                    window_latents = x[:, :, window.start : window.stop]
                    return self.predict(window_latents, timestep, image_embeds, pose_features, guidance_scale)

                return blend_windows(num_frames, windows, context_overlap, predict_window)

            latents = self.denoising_loop(latents, num_inference_steps, generator, predict)

            # Decoded a window's length at a time, for the same memory bound.
            chunks = range(0, num_frames, context_frames)
            frames = torch.cat([model.decode_latents(latents[:, :, s : s + context_frames]) for s in chunks], dim=1)
        return as_uint8_frames(frames[0])
