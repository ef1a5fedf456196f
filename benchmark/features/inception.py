"""Inception-v3 pool3 features for FID, with pytorch-fid's FID Inception (the TF 2015-12-05 graph's structure).

pytorch-fid's `fid_inception_v3()` and `InceptionV3(use_fid_inception=True)` download the weights from GitHub when
built, so the same network is assembled here from pytorch-fid's own patched blocks (`FIDInceptionA/C/E_1/E_2`) on
torchvision's Inception-v3 built without weights, and `pt_inception-2015-12-05-6726825d.pth` is loaded from disk.
The forward pass is pytorch-fid's: bilinear resize to 299, scale [0, 1] to [-1, 1], blocks up to the final average
pool (2048-d).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pytorch_fid.inception import FIDInceptionA, FIDInceptionC, FIDInceptionE_1, FIDInceptionE_2
from torch import nn
from torchvision.models import inception_v3

from benchmark.features.base import FeatureNet
from benchmark.protocol import sha256_file
from curation.weights import load_strict

__all__ = ["FIDInceptionPool3", "InceptionFeatures", "build_fid_inception"]


def build_fid_inception() -> nn.Module:
    """pytorch-fid's FID Inception with random weights; its state-dict keys are those of the FID weights file."""
    net = inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=False)
    net.Mixed_5b = FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = FIDInceptionE_1(1280)
    net.Mixed_7c = FIDInceptionE_2(2048)
    return net


class FIDInceptionPool3(nn.Module):
    """The FID Inception (`.inception`, which takes the weights file's keys) run up to pool3."""

    def __init__(self, inception: nn.Module) -> None:
        super().__init__()
        self.inception = inception

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [N, 3, H, W] in [0, 1] -> [N, 2048]."""
        n = self.inception
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        x = 2 * x - 1
        x = n.Conv2d_2b_3x3(n.Conv2d_2a_3x3(n.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = n.Conv2d_4a_3x3(n.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
            x = getattr(n, name)(x)
        x = n.Mixed_7c(n.Mixed_7b(n.Mixed_7a(x)))
        return F.adaptive_avg_pool2d(x, (1, 1)).flatten(1)


class InceptionFeatures(FeatureNet):
    """FID features: input frames uint8 [B, H, W, 3], output [B, 2048]."""

    network = "fid-inception"

    @staticmethod
    def build() -> nn.Module:
        return FIDInceptionPool3(build_fid_inception())

    @classmethod
    def from_file(cls, path: str | Path, *, device: str = "cpu", batch_size: int = 4) -> InceptionFeatures:
        # The weights file holds the whole Inception (with its 1008-way fc): load it into the wrapped network.
        module = cls.build()
        load_strict(module.inception, path)
        return cls(module, sha256=sha256_file(path), device=device, batch_size=batch_size)

    def preprocess(self, batch: np.ndarray) -> torch.Tensor:
        if batch.ndim != 4 or batch.shape[-1] != 3:
            raise ValueError(f"expected frames [B, H, W, 3], got {batch.shape}")
        return torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).float() / 255.0
