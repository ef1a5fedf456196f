"""The UNets: a ReferenceNet and a denoiser with temporal (AnimateDiff) layers, from diffusers components.

Both start from one UNet2DConditionModel architecture. The denoiser is `UNetMotionModel.from_unet2d(unet, adapter)`;
its temporal layers start as identities (zero output projections, as AnimateDiff and the anchor initialise them)
unless an AnimateDiff motion module is loaded. The image stage runs the same denoiser with its temporal layers
bypassed (`temporal_layers_bypassed`), so one set of weights serves both stages and the image stage never touches
them. The PoseGuider's features join right after the input convolution (`features_added_after_conv_in`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from diffusers import MotionAdapter, UNet2DConditionModel, UNetMotionModel
from diffusers.models.unets.unet_motion_model import AnimateDiffTransformer3D
from diffusers.utils import logging as diffusers_logging
from torch import nn

from models.config import MotionConfig

__all__ = [
    "features_added_after_conv_in",
    "motion_adapter_for",
    "temporal_layers",
    "temporal_layers_bypassed",
    "unet2d_from_config",
    "video_unet",
    "widen_conv_in",
    "zero_init_temporal_layers",
]


def unet2d_from_config(config: dict) -> UNet2DConditionModel:
    """A randomly initialised UNet2DConditionModel with these keyword arguments."""
    return UNet2DConditionModel(**config)


def motion_adapter_for(unet: UNet2DConditionModel, motion: MotionConfig) -> MotionAdapter:
    """A randomly initialised MotionAdapter matching `unet`'s blocks, with zero output projections."""
    config = unet.config
    adapter = MotionAdapter(
        block_out_channels=tuple(config.block_out_channels),
        motion_layers_per_block=config.layers_per_block,
        motion_transformer_layers_per_block=motion.transformer_layers_per_block,
        motion_num_attention_heads=motion.num_attention_heads,
        motion_norm_num_groups=config.norm_num_groups,
        motion_max_seq_length=motion.max_seq_length,
        use_motion_mid_block=motion.use_mid_block,
    )
    zero_init_temporal_layers(adapter)
    return adapter


def temporal_layers(module: nn.Module) -> list[AnimateDiffTransformer3D]:
    return [m for m in module.modules() if isinstance(m, AnimateDiffTransformer3D)]


@torch.no_grad()
def zero_init_temporal_layers(module: nn.Module) -> None:
    """Zero every temporal layer's output projection: each layer then returns its input (it adds proj_out(...) to
    a residual), so a fresh video UNet computes exactly what its spatial layers compute on each frame."""
    for layer in temporal_layers(module):
        nn.init.zeros_(layer.proj_out.weight)
        nn.init.zeros_(layer.proj_out.bias)


def video_unet(unet: UNet2DConditionModel, adapter: MotionAdapter) -> UNetMotionModel:
    """The denoiser: `unet`'s spatial weights plus `adapter`'s temporal layers (diffusers copies both)."""
    # from_unet2d's closing dtype cast warns about an empty list of float32 modules: noise, silenced.
    verbosity = diffusers_logging.get_verbosity()
    diffusers_logging.set_verbosity_error()
    try:
        return UNetMotionModel.from_unet2d(unet, adapter)
    finally:
        diffusers_logging.set_verbosity(verbosity)


def _bypassable(module: nn.Module) -> bool:
    """A temporal layer, or a module around one that must go with it (the AnimateAnywhere-style BML)."""
    return isinstance(module, AnimateDiffTransformer3D) or getattr(module, "bypassed_with_temporal_layers", False)


def _identity(hidden_states: torch.Tensor, *args, **kwargs) -> torch.Tensor:
    return hidden_states


@contextmanager
def temporal_layers_bypassed(unet: nn.Module, bypass: bool = True) -> Iterator[None]:
    """Within the block, every temporal layer of `unet` returns its input without computing anything (the image
    stage: frames independent, temporal weights neither used nor trained). An instance attribute shadows the class's
    `forward`; deleting it restores the layer."""
    layers = [m for m in unet.modules() if _bypassable(m)] if bypass else []
    for layer in layers:
        layer.forward = _identity
    try:
        yield
    finally:
        for layer in layers:
            del layer.forward


@contextmanager
def features_added_after_conv_in(unet: nn.Module, features: torch.Tensor | None) -> Iterator[None]:
    """Within the block, `features` ([rows, C, h, w], the rows of the UNet's flattened frames) are added to the
    output of `unet.conv_in`: how the PoseGuider conditions the denoiser. None adds nothing."""
    if features is None:
        yield
        return

    def add(module: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
        if output.shape != features.shape:
            raise ValueError(f"conditioning features {tuple(features.shape)} vs conv_in output {tuple(output.shape)}")
        return output + features.to(output.dtype)

    handle = unet.conv_in.register_forward_hook(add)
    try:
        yield
    finally:
        handle.remove()


@torch.no_grad()
def widen_conv_in(unet: nn.Module, extra_channels: int) -> None:
    """Give `unet`'s input convolution `extra_channels` more input channels, their weights zero: the widened UNet
    computes what it did as long as they hold nothing (the usual way to add an image condition to a UNet)."""
    conv = unet.conv_in
    wider = nn.Conv2d(conv.in_channels + extra_channels, conv.out_channels, conv.kernel_size, conv.stride,
                      conv.padding).to(conv.weight)  # fmt: skip
    wider.weight.zero_()
    wider.weight[:, : conv.in_channels] = conv.weight
    wider.bias.copy_(conv.bias)
    unet.conv_in = wider
    unet.register_to_config(in_channels=conv.in_channels + extra_channels)
