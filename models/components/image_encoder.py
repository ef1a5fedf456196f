"""The CLIP image encoder: one image token (the projected image embedding) of the reference, for cross-attention."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

__all__ = ["ImageEncoder"]

# CLIP's pixel normalisation (the values of CLIPImageProcessor for every OpenAI CLIP).
_MEAN = (0.48145466, 0.4578275, 0.40821073)
_STD = (0.26862954, 0.26130258, 0.27577711)


class ImageEncoder(nn.Module):
    """Reference images [N, 3, H, W] in [-1, 1] -> image embeddings [N, 1, projection_dim]. The image is resized
    to CLIP's square input (bilinear, antialiased) rather than centre-cropped: the whole person stays visible."""

    def __init__(self, clip: CLIPVisionModelWithProjection) -> None:
        super().__init__()
        self.clip = clip
        self.clip.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_STD).view(1, 3, 1, 1), persistent=False)

    @classmethod
    def from_config(cls, config: dict) -> ImageEncoder:
        return cls(CLIPVisionModelWithProjection(CLIPVisionConfig(**config)))

    @classmethod
    def from_pretrained(cls, path: str | Path) -> ImageEncoder:
        return cls(CLIPVisionModelWithProjection.from_pretrained(str(path), local_files_only=True))

    @property
    def embedding_dim(self) -> int:
        return int(self.clip.config.projection_dim)

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        size = self.clip.config.image_size
        pixels = F.interpolate((images + 1) / 2, size=(size, size), mode="bilinear", antialias=True)
        pixels = ((pixels - self.mean) / self.std).to(self.clip.dtype)
        return self.clip(pixel_values=pixels).image_embeds.unsqueeze(1).float()
