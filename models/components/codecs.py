"""Codecs between pixels and latents, behind one interface: exact pixel-unshuffle (CPU, training-free) or a VAE.

Both take and give images as float [N, 3, H, W] in [-1, 1] and latents as [N, C, H / f, W / f].
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Codec", "DctCodec", "PixelUnshuffleCodec", "VaeCodec", "dct_basis"]


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


def dct_basis(factor: int, luma: int, chroma: int) -> torch.Tensor:
    """Orthonormal rows [luma + 2 * chroma, 3 * factor**2] over a pixel-unshuffled patch (channel c * f * f + i * f +
    j): an opponent colour transform (luminance (R+G+B)/sqrt 3, chroma (R-B)/sqrt 2 and (R-2G+B)/sqrt 6) times the
    2-D DCT-II of the patch, keeping the `luma` lowest frequencies of the luminance and `chroma` of each chroma
    channel, lowest first (by u + v, then u), as JPEG spends its bits."""
    if not 1 <= luma <= factor**2 or not 0 <= chroma <= factor**2:
        raise ValueError(f"keep 1..{factor**2} luminance and 0..{factor**2} chroma coefficients, got {luma}, {chroma}")
    n = torch.arange(factor, dtype=torch.float64)
    dct = torch.cos(torch.pi * (2 * n[None] + 1) * n[:, None] / (2 * factor)) * (2 / factor) ** 0.5
    dct[0] /= 2**0.5
    colour = torch.tensor([[1, 1, 1], [1, 0, -1], [1, -2, 1]], dtype=torch.float64)
    colour = colour / colour.norm(dim=1, keepdim=True)
    order = sorted(((u, v) for u in range(factor) for v in range(factor)), key=lambda uv: (uv[0] + uv[1], uv[0]))
    rows = []
    for channel, keep in ((0, luma), (1, chroma), (2, chroma)):
        for u, v in order[:keep]:
            rows.append(torch.kron(colour[channel], torch.outer(dct[u], dct[v]).flatten()))
    return torch.stack(rows).float()


class DctCodec(Codec):
    """A fixed lossy codec without parameters: each factor x factor patch keeps its lowest 2-D DCT frequencies of the
    luminance and of both chroma channels (`dct_basis`; 16 each: 48 channels), so a tiny UNet whose first block is as
    wide as the latent can represent (and so denoise) every latent channel; the x8 pixel-unshuffle's 192 channels
    into a 64-wide first block leave two thirds of each latent out of the denoiser's reach. The basis is
    orthonormal: decode(encode(x)) is the projection of x on the kept frequencies and encode(decode(z)) == z up to
    float rounding."""

    def __init__(self, factor: int = 8, luma: int = 16, chroma: int = 16, scale: float = 1.0) -> None:
        super().__init__()
        self.factor = factor
        self.scale = float(scale)
        self.register_buffer("basis", dct_basis(factor, luma, chroma), persistent=False)
        self.latent_channels = luma + 2 * chroma
        self.downscale = factor

    def encode(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        patches = F.pixel_unshuffle(images, self.factor)
        return torch.einsum("kc,nchw->nkhw", self.basis.to(patches.dtype), patches) * self.scale

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        patches = torch.einsum("kc,nkhw->nchw", self.basis.to(latents.dtype), latents / self.scale)
        return F.pixel_shuffle(patches, self.factor)


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
