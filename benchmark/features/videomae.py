"""VideoMAE-v2 features for content-debiased FVD (Ge et al., CVPR 2024), with the model class cd-fvd ships.

cd-fvd's `load_videomae_model` downloads the 4 GB checkpoint when missing and unpickles it with pickle enabled; here
the same `VisionTransformer` (ViT-g/14, 1408-d, 16 frames, tubelet 2, SSv2 head) is built directly and the local
checkpoint loaded with weights_only and strict=True. Features are `forward_features` (the mean-pooled, normed token
embedding, 1408-d) on clips stretched bilinearly to 224 with values in [0, 1], as cd-fvd does.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from cdfvd.third_party.VideoMAEv2.videomaev2_finetune import VisionTransformer
from torch import nn

from benchmark.features.base import FeatureNet, clips_to_tensor

__all__ = ["VIDEOMAE_G", "VideoMAEFeatures", "build_videomae", "videomae_input"]

# cd-fvd's vit_giant_patch14_224 as load_videomae_model configures it (vit_g_hybrid_pt_1200e_ssv2_ft.pth).
VIDEOMAE_G = dict(
    img_size=224,
    patch_size=14,
    embed_dim=1408,
    depth=40,
    num_heads=16,
    mlp_ratio=48 / 11,
    qkv_bias=True,
    num_classes=174,
    all_frames=16,
    tubelet_size=2,
    use_mean_pooling=True,
)


def build_videomae(**overrides: object) -> nn.Module:
    """cd-fvd's VideoMAE-v2 VisionTransformer, random weights; `overrides` shrink it for tests (e.g. depth=1)."""
    cfg = {**VIDEOMAE_G, **overrides}
    return VisionTransformer(norm_layer=partial(nn.LayerNorm, eps=1e-6), **cfg)


def videomae_input(clips: np.ndarray, size: int = 224) -> torch.Tensor:
    """uint8 [B, T, H, W, 3] to [B, 3, T, 224, 224] in [0, 1], bilinear stretch (cd-fvd's preprocess_videomae)."""
    return clips_to_tensor(clips, size) / 255.0


class VideoMAEFeatures(FeatureNet):
    """cd-FVD features: clips uint8 [B, 16, H, W, 3], output [B, 1408]."""

    network = "cdfvd-videomae-v2-g"

    @staticmethod
    def build() -> nn.Module:
        return build_videomae()

    def preprocess(self, batch: np.ndarray) -> torch.Tensor:
        return videomae_input(batch, self.spec.resolution)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module.forward_features(x)
