"""AnimationPipeline: what the pipelines of the reference-animation models share, as diffusers' pipelines share
DiffusionPipeline: the inputs' conversions, the model in eval mode for a call (its reference bank cleared after), the
ReferenceNet pass, classifier-free guidance and the denoising loop. The unconditional half of a guided batch has no
reference and zero image tokens, as 10% of training steps had. A subclass's `__call__` says what differs: which
latents a step predicts (AnimateAnyonePipeline: blended temporal windows) and what it holds fixed between steps
(DisentangledPipeline: the handed-over frame).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F

from models.animate_anyone import AnimateAnyone
from models.components.schedulers import inference_scheduler

__all__ = ["AnimationPipeline", "as_poses", "as_reference", "as_uint8_frames"]

# (latents, timestep) -> the latents' prediction, or the latents a step starts from.
Step = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def as_reference(image: np.ndarray | torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
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


def as_poses(poses: np.ndarray | torch.Tensor) -> torch.Tensor:
    """float [T, 3, H, W] in [0, 1], or uint8 [T, H, W, 3] -> float [T, 3, H, W] in [0, 1]."""
    tensor = torch.as_tensor(poses)
    if tensor.dtype == torch.uint8:
        tensor = tensor.permute(0, 3, 1, 2).float() / 255
    if tensor.ndim != 4 or tensor.shape[1] != 3:
        raise ValueError(f"a pose sequence is float [T, 3, H, W] (or uint8 [T, H, W, 3]), got {tuple(tensor.shape)}")
    return tensor.float()


def as_uint8_frames(frames: torch.Tensor) -> np.ndarray:
    """Decoded frames [T, 3, H, W] (about [-1, 1]) -> uint8 [T, H, W, 3]."""
    return ((frames.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


class AnimationPipeline:
    """The shared parts; `model` is an AnimateAnyone (or a subclass: models.disentangled, models.animate_anywhere)."""

    def __init__(self, model: AnimateAnyone, scheduler=None) -> None:
        self.model = model
        self.scheduler = scheduler if scheduler is not None else inference_scheduler(model.config.scheduler)

    def check_frame_size(self, height: int, width: int) -> None:
        down = self.model.codec.downscale
        if height % down or width % down:
            raise ValueError(f"pose frames {height}x{width} are not multiples of the codec's x{down}")

    @contextmanager
    def sampling(self) -> Iterator[None]:
        """The model in eval mode for the block; its reference bank cleared and its mode restored after."""
        was_training = self.model.training
        self.model.eval()
        try:
            yield
        finally:
            self.model.bank.clear()
            self.model.train(was_training)

    def write_reference(self, reference_latents: torch.Tensor, tokens: torch.Tensor, guided: bool) -> torch.Tensor:
        """Runs the ReferenceNet on the reference latents [1, C, h, w] with the cross-attention tokens [1, n, D];
        returns the tokens the denoiser reads: with guidance, zero tokens (and no reference) ahead of them."""
        if not guided:
            self.model.write_reference(reference_latents, tokens)
            return tokens
        tokens = torch.cat([torch.zeros_like(tokens), tokens])
        keep = torch.tensor([False, True], device=self.model.device)
        self.model.write_reference(reference_latents.repeat(2, 1, 1, 1), tokens, keep)
        return tokens

    def predict(
        self,
        latents: torch.Tensor,
        timestep: torch.Tensor,
        tokens: torch.Tensor,
        features: torch.Tensor,
        guidance_scale: float,
        **inputs: torch.Tensor | None,
    ) -> torch.Tensor:
        """The (guided, when guidance_scale > 1) prediction for latents [1, C, F, h, w]; `tokens` as
        `write_reference` returned them, `features` [F, C', h', w'] and `inputs` (the model's extra `denoise`
        inputs) of the one sample: doubled here for the guided batch."""
        x = self.scheduler.scale_model_input(latents, timestep)
        if guidance_scale <= 1:
            return self.model.denoise(x, timestep, tokens, features, **inputs)
        doubled = {name: None if v is None else v.repeat(2, *(1,) * (v.ndim - 1)) for name, v in inputs.items()}
        both = self.model.denoise(x.repeat(2, 1, 1, 1, 1), timestep, tokens, features.repeat(2, 1, 1, 1), **doubled)
        unconditional, conditional = both.chunk(2)
        return unconditional + guidance_scale * (conditional - unconditional)

    def denoising_loop(
        self,
        latents: torch.Tensor,
        num_inference_steps: int,
        generator: torch.Generator,
        predict: Step,
        hold: Step | None = None,
    ) -> torch.Tensor:
        """`num_inference_steps` scheduler steps from `latents` (already scaled by init_noise_sigma): each predicts
        with `predict(latents, timestep)` from the latents `hold(latents, timestep)` makes (what a pipeline holds
        fixed; none by default)."""
        self.scheduler.set_timesteps(num_inference_steps, device=self.model.device)
        for timestep in self.scheduler.timesteps:
            if hold is not None:
                latents = hold(latents, timestep)
            prediction = predict(latents, timestep)
            latents = self.scheduler.step(prediction, timestep, latents, generator=generator).prev_sample
        return latents
