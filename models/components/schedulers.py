"""Noise schedules with the anchor's options: DDPM noising for training, DDIM sampling for inference, both with
zero terminal SNR and trailing spacing where configured; the noise offset and min-SNR loss weights."""

from __future__ import annotations

import torch
from diffusers import DDIMScheduler, DDPMScheduler

from models.config import SchedulerConfig

__all__ = ["inference_scheduler", "min_snr_weights", "offset_noise", "training_scheduler"]


def _kwargs(config: SchedulerConfig) -> dict:
    return {
        "num_train_timesteps": config.num_train_timesteps,
        "beta_start": config.beta_start,
        "beta_end": config.beta_end,
        "beta_schedule": config.beta_schedule,
        "steps_offset": config.steps_offset,
        "prediction_type": config.prediction_type,
        "rescale_betas_zero_snr": config.rescale_betas_zero_snr,
        "timestep_spacing": config.timestep_spacing,
        "clip_sample": False,
    }


def training_scheduler(config: SchedulerConfig) -> DDPMScheduler:
    return DDPMScheduler(**_kwargs(config))


def inference_scheduler(config: SchedulerConfig) -> DDIMScheduler:
    # With zero terminal SNR the last step must land on x0 itself: DDIM's final alpha is then 1 (set_alpha_to_one).
    return DDIMScheduler(**_kwargs(config), set_alpha_to_one=True)


def offset_noise(shape: tuple[int, ...], offset: float, generator: torch.Generator, device=None) -> torch.Tensor:
    """Gaussian noise for latents [B, C, F, h, w], plus `offset` x one Gaussian per (sample, channel) shared by all
    frames and pixels (the noise offset: lets the model change a frame's mean brightness)."""
    noise = torch.randn(shape, generator=generator, device=device)
    if offset > 0:
        noise = noise + offset * torch.randn((*shape[:2], *(1,) * (len(shape) - 2)), generator=generator, device=device)
    return noise


def min_snr_weights(scheduler: DDPMScheduler, timesteps: torch.Tensor, gamma: float | None) -> torch.Tensor:
    """Per-sample loss weights of min-SNR weighting (Hang et al. 2023), in the anchor's form: min(s, gamma) / s with
    s = SNR + 1 for v-prediction (finite at zero terminal SNR) and s = SNR for epsilon; min(SNR, gamma) for sample
    (x0) prediction, the paper's form for it. None or 0: all ones."""
    if not gamma:
        return torch.ones(timesteps.shape, device=timesteps.device)
    alphas = scheduler.alphas_cumprod.to(timesteps.device)[timesteps].double()
    snr = alphas / (1 - alphas).clamp_min(1e-20)
    if scheduler.config.prediction_type == "sample":
        return snr.clamp_max(gamma).float()
    if scheduler.config.prediction_type == "v_prediction":
        snr = snr + 1
    # epsilon at zero SNR: weight 0 (the target carries no information about the image there).
    return (snr.clamp_max(gamma) / snr.clamp_min(1e-20)).float()
