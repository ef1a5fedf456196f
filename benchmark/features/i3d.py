"""I3D for FVD: the common PyTorch port of the Kinetics-400 I3D (as shipped by cd-fvd) and StyleGAN-V's TorchScript.

Both give the 400-d logits (before softmax) that FVD uses. The architecture is cd-fvd's `InceptionI3d`, whose module
names match `i3d_pretrained_400.pt`; cd-fvd's own `load_i3d_model` downloads when the file is missing and loads with
pickle enabled, so it is not used: the module is built directly and the weights loaded by `curation.weights`
(weights_only, strict).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from cdfvd.third_party.i3d.pytorch_i3d import InceptionI3d
from torch import nn

from benchmark.features.base import FeatureNet, clips_to_tensor
from benchmark.protocol import sha256_file
from curation.weights import load_torchscript

__all__ = ["I3DFeatures", "TorchScriptI3DFeatures", "build_i3d", "i3d_input"]


def build_i3d() -> nn.Module:
    """The Kinetics-400 I3D port, random weights, 400 logits."""
    return InceptionI3d(num_classes=400, in_channels=3)


def i3d_input(clips: np.ndarray, size: int = 224) -> torch.Tensor:
    """StyleGAN-V preprocessing: uint8 [B, T, H, W, 3] to [B, 3, T, 224, 224], bilinear stretch, values in [-1, 1]."""
    return clips_to_tensor(clips, size) * (2.0 / 255.0) - 1.0


class I3DFeatures(FeatureNet):
    """FVD features from `i3d_pretrained_400.pt`: input clips uint8 [B, T, H, W, 3], output [B, 400]."""

    network = "fvd-i3d-400"

    @staticmethod
    def build() -> nn.Module:
        return build_i3d()

    def preprocess(self, batch: np.ndarray) -> torch.Tensor:
        return i3d_input(batch, self.spec.resolution)


class TorchScriptI3DFeatures(FeatureNet):
    """FVD features from StyleGAN-V's `i3d_torchscript.pt`, called as StyleGAN-V calls it after its own
    preprocessing: `detector(x, rescale=False, resize=False, return_features=True)`."""

    network = "fvd-i3d-torchscript"

    @staticmethod
    def build() -> nn.Module:
        raise TypeError("the TorchScript I3D carries its own architecture; load it with from_file")

    @classmethod
    def from_file(cls, path: str | Path, *, device: str = "cpu", batch_size: int = 4) -> TorchScriptI3DFeatures:
        return cls(load_torchscript(path), sha256=sha256_file(path), device=device, batch_size=batch_size)

    def preprocess(self, batch: np.ndarray) -> torch.Tensor:
        return i3d_input(batch, self.spec.resolution)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x, rescale=False, resize=False, return_features=True)
