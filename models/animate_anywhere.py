"""The AnimateAnywhere-style model (arXiv 2504.19834) on the baseline's shared parts: no tracks or camera at test
time; a Background Motion Learner (models.components.background_motion) wraps every temporal layer of the denoiser,
driven by the PoseGuider's features, and learns the background's motion from the pose sequence; during training the
BML's 3D attention is pushed off the epipolar lines' complement (models.components.epipolar) between the frames of
the training clip, from the geometry the data pipeline estimates from the shard's background tracks.

Stages: as the baseline's; the BML trains with the temporal layers in the video stage (the image stage bypasses both).
Ablations: `bml: false` (the baseline's denoiser), `epipolar_loss: false`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn

from models.animate_anyone import AnimateAnyone, build_animate_anyone_parts
from models.components.background_motion import BackgroundMotionLayer, LowRank3DAttention, PoseContext
from models.components.epipolar import epipolar_attention_loss, epipolar_mask
from models.components.unets import temporal_layers
from models.config import ModelConfig
from models.data.background import BackgroundInputs

__all__ = ["AnimateAnywhere", "attach_background_motion_learner", "build_animate_anywhere"]


def attach_background_motion_learner(
    unet: nn.Module,
    pose_channels: int,
    rank: int,
    max_tokens: int,
    resolution: tuple[int, int],
    downscale: int,
    rope: bool = False,
) -> PoseContext:
    """Wrap every temporal layer of `unet` in a BackgroundMotionLayer (in place); the returned context carries the
    pose features to all of them. A layer gets the 3D attention branch when its tokens per frame (from the latent
    grid of `resolution` at `downscale`, halved per down block) are at most `max_tokens`; with `rope`, that branch's
    queries and keys get a 3D rotary position code."""
    context = PoseContext()
    h, w = resolution[0] // downscale, resolution[1] // downscale
    blocks = [*unet.down_blocks, unet.mid_block, *unet.up_blocks]
    levels = [i for i in range(len(unet.down_blocks))] + [len(unet.down_blocks) - 1]
    levels += list(reversed(range(len(unet.up_blocks))))
    for block, level in zip(blocks, levels, strict=True):
        modules = getattr(block, "motion_modules", None)
        if modules is None:
            continue
        tokens = (h // 2**level) * (w // 2**level)
        for index, layer in enumerate(modules):
            channels = layer.proj_in.in_features
            modules[index] = BackgroundMotionLayer(
                layer, channels, pose_channels, context, rank, tokens <= max_tokens, rope
            )
    return context


class AnimateAnywhere(AnimateAnyone):
    def __init__(self, *parts, pose_context: PoseContext | None) -> None:
        super().__init__(*parts)
        self.pose_context = pose_context
        a = self.config.animate_anywhere
        self.background = BackgroundInputs(epipolar=a.bml and a.epipolar_loss)
        for branch in self.branches():
            branch.keep_attention = False

    def branches(self) -> list[LowRank3DAttention]:
        return [m for m in self.denoising_unet.modules() if isinstance(m, LowRank3DAttention)]

    @contextmanager
    def denoiser_context(self, pose_features: torch.Tensor | None) -> Iterator[None]:
        """The BML reads the same pose features as the denoiser (the PoseGuider's), for the call."""
        if self.pose_context is None:
            yield
            return
        self.pose_context.features = pose_features
        try:
            yield
        finally:
            self.pose_context.features = None

    # --- training hooks ----------------------------------------------------------------------------------------
    def draw_training_inputs(self, batch: dict, stage: str, latents: torch.Tensor, draw) -> dict:
        # The epipolar loss reads the branches' attention weights, which fused attention does not return.
        keep = stage == "video" and self.background.epipolar
        for branch in self.branches():
            branch.keep_attention = keep
            branch.attention = None
        return {}

    def auxiliary_loss(self, batch: dict, stage: str) -> torch.Tensor | float:
        """The epipolar loss of every BML branch that ran (video stage), weighted, averaged over branches."""
        a = self.config.animate_anywhere
        if stage != "video" or not self.background.epipolar:
            return 0.0
        matrices = batch["epipolar_matrices"].to(self.device)
        kinds = batch["epipolar_kinds"].to(self.device)
        height, width = self.config.resolution
        losses, masks = [], {}
        for branch in self.branches():
            attention, grid = branch.attention, branch.grid
            branch.attention = None
            branch.keep_attention = False
            if attention is None:
                continue
            if grid not in masks:  # layers at one resolution share the mask
                masks[grid] = epipolar_mask(matrices, kinds, grid, (height, width), a.tolerance)
            losses.append(epipolar_attention_loss(attention, masks[grid], a.delta))
        if not losses:
            return 0.0
        return a.epipolar_weight * torch.stack(losses).mean()


def build_animate_anywhere(
    config: ModelConfig, weights_dir: str | Path | None = None, random_init: bool = False
) -> AnimateAnywhere:
    """The AnimateAnywhere-style model a config describes: the baseline's parts, and the BML on the denoiser's
    temporal layers (randomly initialised from config.seed; zero-initialised outputs, so it starts as the
    baseline)."""
    a = config.animate_anywhere
    parts = build_animate_anyone_parts(config, weights_dir, random_init, int(config.reference_concat))
    codec, _, _, denoiser, pose_guider = parts
    context = None
    if a.bml:
        if not temporal_layers(denoiser):
            raise ValueError("the BML wraps the denoiser's temporal layers, and it has none")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed + 2)
            channels = denoiser.config.block_out_channels[0]
            context = attach_background_motion_learner(
                denoiser, channels, a.rank, a.max_tokens, tuple(config.resolution), codec.downscale, a.rope
            )
    del pose_guider
    return AnimateAnywhere(config, *parts, pose_context=context)
