"""AnimateAnyonePipeline: a reference image and a rendered pose sequence -> a video, any length.

The ReferenceNet runs once per video (it sees the reference at timestep 0, so its features do not change between
steps); each denoising step walks the overlapping temporal windows (models.pipelines.context) with classifier-free
guidance (the unconditional half has no reference and a zero image token, as 10% of training steps had), blends the
windows' predictions and takes one DDIM step on the whole video. Every random draw comes from `generator`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from models.animate_anyone import AnimateAnyone
from models.components.schedulers import inference_scheduler
from models.pipelines.context import blend_windows, context_windows

__all__ = ["AnimateAnyonePipeline"]


def _as_reference(image: np.ndarray | torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """uint8 [H, W, 3] (numpy or torch) or float [3, H, W] in [-1, 1] -> float [1, 3, *size] in [-1, 1]."""
    tensor = torch.as_tensor(image)
    if tensor.dtype == torch.uint8:
        if tensor.ndim != 3 or tensor.shape[-1] != 3:
            raise ValueError(f"a uint8 reference image is [H, W, 3], got {tuple(tensor.shape)}")
        tensor = tensor.permute(2, 0, 1).float() / 127.5 - 1
    elif tensor.ndim != 3 or tensor.shape[0] != 3:
        raise ValueError(f"a float reference image is [3, H, W] in [-1, 1], got {tuple(tensor.shape)}")
    tensor = tensor.float()[None]
    if tuple(tensor.shape[-2:]) != size:
        tensor = F.interpolate(tensor, size=size, mode="bilinear", antialias=True, align_corners=False)
    return tensor


def _as_poses(poses: np.ndarray | torch.Tensor) -> torch.Tensor:
    """float [T, 3, H, W] in [0, 1], or uint8 [T, H, W, 3] -> float [T, 3, H, W] in [0, 1]."""
    tensor = torch.as_tensor(poses)
    if tensor.dtype == torch.uint8:
        tensor = tensor.permute(0, 3, 1, 2).float() / 255
    if tensor.ndim != 4 or tensor.shape[1] != 3:
        raise ValueError(f"a pose sequence is float [T, 3, H, W] (or uint8 [T, H, W, 3]), got {tuple(tensor.shape)}")
    return tensor.float()


class AnimateAnyonePipeline:
    """`pipeline(reference_image, pose_sequence) -> uint8 [T, H, W, 3]` at the pose sequence's size."""

    def __init__(self, model: AnimateAnyone, scheduler=None) -> None:
        self.model = model
        self.scheduler = scheduler if scheduler is not None else inference_scheduler(model.config.scheduler)

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
        poses = _as_poses(pose_sequence)
        num_frames, height, width = poses.shape[0], poses.shape[2], poses.shape[3]
        down = model.codec.downscale
        if height % down or width % down:
            raise ValueError(f"pose frames {height}x{width} are not multiples of the codec's x{down}")
        windows = context_windows(num_frames, context_frames, context_overlap)
        guided = guidance_scale > 1

        was_training = model.training
        model.eval()
        try:
            reference = _as_reference(reference_image, (height, width)).to(device)
            image_embeds = model.image_encoder(reference)
            reference_latents = model.codec.encode(reference, generator)
            if guided:
                image_embeds = torch.cat([torch.zeros_like(image_embeds), image_embeds])
                keep = torch.tensor([False, True], device=device)
                model.write_reference(reference_latents.repeat(2, 1, 1, 1), image_embeds, keep)
            else:
                model.write_reference(reference_latents, image_embeds)

            shape = (1, model.codec.latent_channels, num_frames, height // down, width // down)
            if latents is None:
                latents = torch.randn(shape, generator=generator, device=generator.device)
            elif tuple(latents.shape) != shape:
                raise ValueError(f"latents must be {shape}, got {tuple(latents.shape)}")
            latents = latents.to(device) * self.scheduler.init_noise_sigma

            self.scheduler.set_timesteps(num_inference_steps, device=device)
            for timestep in self.scheduler.timesteps:

                def predict(window: range, x: torch.Tensor = latents, t: torch.Tensor = timestep) -> torch.Tensor:
                    x = self.scheduler.scale_model_input(x[:, :, window.start : window.stop], t)
                    pose_features = model.pose_features(poses[None, window.start : window.stop].to(device))
                    if not guided:
                        return model.denoise(x, t, image_embeds, pose_features)
                    both = model.denoise(x.repeat(2, 1, 1, 1, 1), t, image_embeds, pose_features.repeat(2, 1, 1, 1))
                    unconditional, conditional = both.chunk(2)
                    return unconditional + guidance_scale * (conditional - unconditional)

                prediction = blend_windows(num_frames, windows, context_overlap, predict)
                latents = self.scheduler.step(prediction, timestep, latents, generator=generator).prev_sample

            # Decoded a window's length at a time, for the same memory bound.
            chunks = range(0, num_frames, context_frames)
            frames = torch.cat([model.decode_latents(latents[:, :, s : s + context_frames]) for s in chunks], dim=1)
        finally:
            model.bank.clear()
            model.train(was_training)
        video = ((frames[0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return video.permute(0, 2, 3, 1).cpu().numpy()
