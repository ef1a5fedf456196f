"""The Background Motion Learner of AnimateAnywhere (arXiv 2504.19834) on an AnimateDiff denoiser.

Each temporal layer T of the denoiser is wrapped: the pose features (the PoseGuider's, pooled to the layer's
resolution and projected to its channels by a zero-initialised 1x1 convolution) are added to the layer's input, and
a low-rank branch B runs beside T on the same sum:

    h_out = T(h_in + h_pose) + B(h_in + h_pose)

B is a low-rank 3D attention: every token of every frame attends to every token of every frame (AnimateDiff's own
temporal attention is per pixel, so a cross-frame epipolar constraint needs such a layer; AnimateAnywhere applies it
to CogVideoX's full 3D attention), in `rank` dimensions, its output projection zero-initialised, so a fresh BML
changes nothing. Its attention weights are kept on the module for the epipolar loss (when `keep_attention`).
Layers with more than `max_tokens` tokens per frame get the pose term and no branch (3D attention is quadratic in
frames x tokens).

Without a position code the branch's attention is blind to where a token is: it can only match contents, so it can
neither shift the background by a camera's few pixels nor keep its weights on the epipolar lines, which are places.
`rope` gives its queries and keys a 3D rotary position code (frame, row, column), as CogVideoX's 3D attention has
(diffusers' get_3d_rotary_pos_embed, the rank split as there: a quarter for time, three eighths for each axis).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.models.embeddings import apply_rotary_emb, get_3d_rotary_pos_embed
from torch import nn

from models.config import rope_rank_problem

__all__ = ["BackgroundMotionLayer", "LowRank3DAttention", "PoseContext"]


class PoseContext:
    """The pose features [(B F), C, h, w] of the current denoiser call, shared by every wrapped layer."""

    def __init__(self) -> None:
        self.features: torch.Tensor | None = None


class LowRank3DAttention(nn.Module):
    def __init__(self, channels: int, rank: int, groups: int, rope: bool = False) -> None:
        super().__init__()
        if rope and (problem := rope_rank_problem(rank)):
            raise ValueError(problem)
        self.rope = rope
        self._rope_cache: dict[tuple[int, int, int, torch.device], tuple[torch.Tensor, torch.Tensor]] = {}
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Linear(channels, 3 * rank, bias=False)
        self.out = nn.Linear(rank, channels)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.rank = rank
        self.keep_attention = False
        self.attention: torch.Tensor | None = None  # [B, 1, F*h*w, F*h*w], when kept
        self.grid: tuple[int, int] | None = None  # the (h, w) token grid of the last call

    def forward(self, hidden: torch.Tensor, num_frames: int) -> torch.Tensor:
        rows, channels, h, w = hidden.shape
        b = rows // num_frames
        self.grid = (h, w)
        x = self.norm(hidden).unflatten(0, (b, num_frames)).permute(0, 1, 3, 4, 2).reshape(b, -1, channels)
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        if self.rope:
            code = self.rotary_code(num_frames, h, w, x.device)
            q, k = (apply_rotary_emb(t[:, None], code)[:, 0].to(t.dtype) for t in (q, k))
        if self.keep_attention:  # weights needed by the loss: computed explicitly (fused kernels return none)
            weights = torch.softmax(q @ k.transpose(1, 2) / self.rank**0.5, dim=-1)
            self.attention = weights[:, None]
            y = weights @ v
        else:
            self.attention = None
            y = F.scaled_dot_product_attention(q, k, v)
        y = self.out(y).reshape(b, num_frames, h, w, channels).permute(0, 1, 4, 2, 3).flatten(0, 1)
        return y

    def rotary_code(self, frames: int, h: int, w: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """(cos, sin), [frames*h*w, rank], for tokens ordered frame, row, column; integer positions on each axis."""
        key = (frames, h, w, device)  # kept on the device: no host-to-device copy per call on a GPU
        if key not in self._rope_cache:
            self._rope_cache[key] = get_3d_rotary_pos_embed(
                self.rank, None, (h, w), frames, grid_type="slice", max_size=(h, w), device=device
            )
        return self._rope_cache[key]


class BackgroundMotionLayer(nn.Module):
    """A temporal layer T with the BML around it (see the module docstring); called as T is. Bypassed with the
    temporal layers (models.components.unets.temporal_layers_bypassed): the image stage runs neither."""

    bypassed_with_temporal_layers = True

    def __init__(
        self,
        temporal: nn.Module,
        channels: int,
        pose_channels: int,
        context: PoseContext,
        rank: int,
        branch: bool,
        rope: bool = False,
    ) -> None:
        super().__init__()
        self.temporal = temporal
        self.pose_projection = nn.Conv2d(pose_channels, channels, 1)
        nn.init.zeros_(self.pose_projection.weight)
        nn.init.zeros_(self.pose_projection.bias)
        groups = 32 if channels % 32 == 0 else 1
        self.branch = LowRank3DAttention(channels, rank, groups, rope) if branch else None
        self.context = context

    def forward(self, hidden_states: torch.Tensor, *args, num_frames: int = 1, **kwargs) -> torch.Tensor:
        if len(args) >= 4:  # the mid block passes (encoder_hidden_states, timestep, class_labels, num_frames, ...)
            num_frames = args[3]
        pose = self.context.features
        if pose is not None:
            pooled = F.adaptive_avg_pool2d(pose.to(hidden_states.dtype), hidden_states.shape[-2:])
            hidden_states = hidden_states + self.pose_projection(pooled)
        out = self.temporal(hidden_states, num_frames=num_frames)
        if self.branch is not None:
            out = out + self.branch(hidden_states, num_frames)
        return out
