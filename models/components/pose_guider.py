"""The PoseGuider: a small convolutional encoder of the rendered pose skeleton whose output joins the denoiser's
features after its input convolution. It is diffusers' ControlNet conditioning embedding (conv_in, stride-2 blocks,
zero-initialised conv_out), so the guider adds exactly nothing at initialisation and its weights load from a ControlNet
checkpoint's `controlnet_cond_embedding.*` (the anchor starts it from ControlNet-OpenPose's)."""

from __future__ import annotations

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.controlnets.controlnet import ControlNetConditioningEmbedding
from diffusers.models.modeling_utils import ModelMixin

__all__ = ["PoseGuider"]


class PoseGuider(ModelMixin, ConfigMixin):
    """Pose images [N, 3, H, W] in [0, 1] -> features [N, embedding_channels, H / 2**(len(blocks)-1), ...]."""

    @register_to_config
    def __init__(
        self,
        conditioning_embedding_channels: int,
        conditioning_channels: int = 3,
        block_out_channels: tuple[int, ...] = (16, 32, 96, 256),
    ) -> None:
        super().__init__()
        self.controlnet_cond_embedding = ControlNetConditioningEmbedding(
            conditioning_embedding_channels, conditioning_channels, tuple(block_out_channels)
        )

    @property
    def downscale(self) -> int:
        return 2 ** (len(self.config.block_out_channels) - 1)

    def forward(self, pose_images: torch.Tensor) -> torch.Tensor:
        return self.controlnet_cond_embedding(pose_images)
