"""Codecs between pixels and latents, behind one interface: exact pixel-unshuffle (CPU, training-free) or a VAE.

Both take and give images as float [N, 3, H, W] in [-1, 1] and latents as [N, C, H / f, W / f].
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Codec", "PixelUnshuffleCodec", "VaeCodec"]


class Codec(nn.Module):
    """Pixels <-> latents. `latent_channels` and `downscale` describe the latent grid."""

    latent_channels: int
    downscale: int

    def encode(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class PixelUnshuffleCodec(Codec):
    """x`factor` pixel-unshuffle: every factor x factor x 3 patch becomes one latent vector of 3 * factor**2 values,
    multiplied by a fixed `scale`. Exact and without parameters, so a tiny model trains on a CPU without a VAE (and
    without a VAE's own training)."""

    def __init__(self, factor: int = 8, scale: float = 1.0) -> None:
        super().__init__()
        self.factor = factor
        self.scale = float(scale)
        self.latent_channels = 3 * factor * factor
        self.downscale = factor

    def encode(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return F.pixel_unshuffle(images, self.factor) * self.scale

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(latents / self.scale, self.factor)


class VaeCodec(Codec):
    """A diffusers AutoencoderKL loaded from a local folder (never downloaded); latents are sampled from the
    posterior (with `generator`, as the anchor samples them) and multiplied by the VAE's scaling factor."""

    def __init__(self, vae: nn.Module, scale: float | None = None) -> None:
        super().__init__()
        self.vae = vae
        self.vae.requires_grad_(False)
        self.scale = float(scale if scale is not None else vae.config.scaling_factor)
        self.latent_channels = int(vae.config.latent_channels)
        self.downscale = 2 ** (len(vae.config.block_out_channels) - 1)

    @classmethod
    def from_pretrained(cls, path: str | Path, scale: float | None = None) -> VaeCodec:
        from diffusers import AutoencoderKL

        return cls(AutoencoderKL.from_pretrained(str(path), local_files_only=True), scale)

    @torch.no_grad()
    def encode(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        posterior = self.vae.encode(images.to(self.vae.dtype)).latent_dist
        return posterior.sample(generator=generator).float() * self.scale

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return self.vae.decode((latents / self.scale).to(self.vae.dtype)).sample.float()
