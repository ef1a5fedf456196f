"""The feature-network interface. Weights files are found and read by `curation.weights` (resolver, strict loader)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from benchmark.protocol import NETWORKS, NetworkSpec, sha256_file
from curation.weights import load_strict

__all__ = ["FeatureNet", "clips_to_tensor", "stretch"]


class FeatureNet(ABC):
    """A feature network with its preprocessing: uint8 video or frames in, float64 feature rows out."""

    network: ClassVar[str]

    def __init__(
        self,
        module: nn.Module,
        *,
        sha256: str,
        device: str = "cpu",
        batch_size: int = 4,
        feature_dim: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        # The canonical network's width; a smaller stand-in (tests, a shrunk ViT) states its own.
        self.feature_dim = feature_dim if feature_dim is not None else self.spec.feature_dim
        self.module = module.eval().to(device)
        self.sha256 = sha256
        self.device = torch.device(device)
        self.batch_size = batch_size

    @property
    def spec(self) -> NetworkSpec:
        return NETWORKS[self.network]

    @classmethod
    def from_file(cls, path: str | Path, *, device: str = "cpu", batch_size: int = 4) -> FeatureNet:
        """Build the architecture, load `path` strictly, record its sha256."""
        module = load_strict(cls.build(), path)
        return cls(module, sha256=sha256_file(path), device=device, batch_size=batch_size)

    @staticmethod
    @abstractmethod
    def build() -> nn.Module:
        """The bare architecture with random weights (nothing is downloaded)."""

    @abstractmethod
    def preprocess(self, batch: np.ndarray) -> torch.Tensor:
        """uint8 input (see the subclass) to the network's input tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)

    @torch.no_grad()
    def features(self, batch: np.ndarray) -> np.ndarray:
        """Feature rows [B, D] in float64 for a uint8 batch, run in chunks of `batch_size`."""
        if batch.dtype != np.uint8:
            raise TypeError(f"{self.network} expects uint8 input, got {batch.dtype}")
        out = []
        for start in range(0, batch.shape[0], self.batch_size):
            x = self.preprocess(batch[start : start + self.batch_size]).to(self.device)
            y = self.forward(x)
            out.append(y.reshape(y.shape[0], -1).double().cpu().numpy())
        return np.concatenate(out, axis=0) if out else np.zeros((0, self.feature_dim))


def stretch(frames: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of [N, C, H, W] to size x size without keeping the aspect ratio (StyleGAN-V, cd-fvd)."""
    if frames.shape[-2:] == (size, size):
        return frames
    return torch.nn.functional.interpolate(frames, size=(size, size), mode="bilinear", align_corners=False)


def clips_to_tensor(clips: np.ndarray, size: int) -> torch.Tensor:
    """uint8 [B, T, H, W, 3] to float [B, 3, T, size, size] in [0, 255], each frame stretched bilinearly."""
    if clips.ndim != 5 or clips.shape[-1] != 3:
        raise ValueError(f"expected clips [B, T, H, W, 3], got {clips.shape}")
    b, t, h, w, _ = clips.shape
    x = torch.from_numpy(np.ascontiguousarray(clips)).float().reshape(b * t, h, w, 3).permute(0, 3, 1, 2)
    x = stretch(x, size)
    return x.reshape(b, t, 3, size, size).permute(0, 2, 1, 3, 4).contiguous()
