"""The Temporal Motion Block of the disentangled model (arXiv 2405.16393): the guiders encode each frame on its
own, so the block mixes the conditioning features along time (per pixel: group norm, a temporal convolution, SiLU,
a zero-initialised temporal convolution, residual) before they join the denoiser. It starts as the identity, so a
model with it computes at first what the model without it computes; it trains in the video stage."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["TemporalMotionBlock"]


class TemporalMotionBlock(nn.Module):
    def __init__(self, channels: int, kernel_size: int = 3, groups: int = 8) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (the block keeps the frame count), got {kernel_size}")
        self.norm = nn.GroupNorm(min(groups, channels), channels)
        self.conv_in = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.conv_out = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, features: torch.Tensor, num_frames: int) -> torch.Tensor:
        """Features [(B F), C, h, w] of B clips of `num_frames` frames -> the same shape."""
        rows, channels, h, w = features.shape
        if rows % num_frames:
            raise ValueError(f"{rows} feature rows are not clips of {num_frames} frames")
        b = rows // num_frames
        x = features.unflatten(0, (b, num_frames)).permute(0, 3, 4, 2, 1).reshape(b * h * w, channels, num_frames)
        y = self.conv_out(nn.functional.silu(self.conv_in(self.norm(x))))
        y = y.reshape(b, h, w, channels, num_frames).permute(0, 4, 3, 1, 2).flatten(0, 1)
        return features + y
