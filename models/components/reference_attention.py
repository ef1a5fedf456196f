"""Reference attention: the ReferenceNet's self-attention inputs, read by the denoiser's self-attention.

AnimateAnyone's ReferenceNet is a UNet run on the reference image; each of its spatial transformer blocks keeps the
normalised input of its self-attention (`attn1`) in a bank, and the denoiser's block of the same name attends to its
own tokens plus the bank's (repeated for every frame). Here that is two diffusers attention processors sharing one
`ReferenceBank`; writer and reader pair by module name, which is the same in a UNet2DConditionModel and in the
UNetMotionModel built from it (temporal attention lives under `motion_modules` and is left alone).

With `positions`, a fixed 2D sine-cosine code of each token's place on its grid is added to what the queries and keys
are computed from (not the values), in the ReferenceNet and the denoiser alike. SD 1.5's pretrained features carry
where a token lies; a randomly initialised UNet's barely do (its convolutions' zero padding only, near the borders), so
its reference attention cannot match a place to the same place of the reference and returns a mix of the whole
reference instead: the coloured blur of reports/background_models*.md. The anchor has no such code; it is off unless
a configuration asks for it (ModelConfig.reference_positions).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from torch import nn

__all__ = [
    "ReferenceBank",
    "ReferenceReadProcessor",
    "ReferenceWriteProcessor",
    "attach_reference_attention",
    "position_code",
    "spatial_self_attention_names",
    "token_grid",
]


class ReferenceBank:
    """Self-attention inputs of the ReferenceNet by processor name ([B, tokens, channels] each), and which samples
    use them (`keep`, [B] bool; None: all). Filled by one ReferenceNet forward, read by the denoiser, cleared before
    the next step's ReferenceNet forward (not after the denoiser's: gradient checkpointing recomputes the reading
    blocks during backward and needs the bank then)."""

    def __init__(self) -> None:
        self.features: dict[str, torch.Tensor] = {}
        self.keep: torch.Tensor | None = None
        self.grid: tuple[int, int] | None = None  # the latents' (h, w), which the position codes need

    def clear(self) -> None:
        self.features.clear()
        self.keep = None

    def __len__(self) -> int:
        return len(self.features)


def _check_plain_self_attention(attn: Attention, attention_mask: torch.Tensor | None) -> None:
    # Processors below handle the self-attention of diffusers' BasicTransformerBlock only: tokens in [N, L, C], no
    # group/spatial norm, residual added by the block. Anything else is a wiring mistake, refused loudly.
    if attn.spatial_norm is not None or attn.group_norm is not None or attn.residual_connection:
        raise ValueError("reference attention expects a plain self-attention (BasicTransformerBlock.attn1)")
    if attention_mask is not None:
        raise ValueError("reference attention does not take an attention mask")


def token_grid(tokens: int, grid: tuple[int, int]) -> tuple[int, int]:
    """The (h, w) of a layer with `tokens` tokens per image in a UNet whose latents are `grid`: each down block
    halves both sides, rounding up as diffusers' stride-2 convolutions do."""
    height, width = grid
    while height * width > tokens:
        height, width = math.ceil(height / 2), math.ceil(width / 2)
        if height * width == tokens:
            return height, width
        if height == width == 1:
            break
    if height * width == tokens:
        return height, width
    raise ValueError(f"{tokens} tokens are no grid of latents {grid} halved any number of times")


def position_code(tokens: int, channels: int, grid: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
    """[tokens, channels] code of each token's place, row-major as the transformer blocks flatten an image: half the
    channels for the row, half for the column, each sin and cos of the place at channels/4 frequencies spread evenly
    over (0, pi] radians per token. Two places share at most half the code (same row or column). Transformers'
    usual code (diffusers' `get_2d_sincos_pos_embed`: wavelengths up to 10^4 tokens) is near constant over a grid of
    16: 77% of a place's self-similarity, on average, for any other place of the tiny UNet's 16 x 16 grid, against
    9% here."""
    if channels % 4:
        raise ValueError(f"reference position codes need channels divisible by 4, got {channels}")
    height, width = token_grid(tokens, grid)
    frequencies = math.pi * torch.arange(1, channels // 4 + 1, device=like.device) / (channels // 4)

    def axis(places: int) -> torch.Tensor:
        angles = torch.arange(places, device=like.device)[:, None] * frequencies
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    rows = axis(height)[:, None, :].expand(height, width, -1)
    columns = axis(width)[None, :, :].expand(height, width, -1)
    return torch.cat([rows, columns], dim=-1).reshape(tokens, channels).to(like.dtype)


def _attend(
    attn: Attention,
    tokens: torch.Tensor,
    context: torch.Tensor,
    mask: torch.Tensor | None,
    grid: tuple[int, int] | None = None,
) -> torch.Tensor:
    """Attention of `tokens` over `context`; with `grid`, every image's tokens in both (one or more images of
    [h*w] tokens each, concatenated) get their position code added before the query and key projections."""
    batch = tokens.shape[0]
    queries_from, keys_from = tokens, context
    if grid is not None:
        per_image = tokens.shape[1]
        code = position_code(per_image, tokens.shape[2], grid, tokens)
        if context.shape[1] % per_image:
            raise ValueError(f"{context.shape[1]} context tokens are no whole number of {per_image}-token images")
        queries_from = tokens + code
        keys_from = context + code.repeat(context.shape[1] // per_image, 1)
    query, key, value = attn.to_q(queries_from), attn.to_k(keys_from), attn.to_v(context)
    head_dim = key.shape[-1] // attn.heads
    query, key, value = (t.view(batch, -1, attn.heads, head_dim).transpose(1, 2) for t in (query, key, value))
    out = F.scaled_dot_product_attention(query, key, value, attn_mask=mask)
    out = out.transpose(1, 2).reshape(batch, -1, attn.heads * head_dim).to(query.dtype)
    return attn.to_out[1](attn.to_out[0](out)) / attn.rescale_output_factor


class ReferenceWriteProcessor:
    """On the ReferenceNet: stores the self-attention input under `name`, then attends as usual (with `positions`,
    position codes from `bank.grid`)."""

    def __init__(self, bank: ReferenceBank, name: str, positions: bool = False) -> None:
        self.bank, self.name, self.positions = bank, name, positions

    def grid(self) -> tuple[int, int] | None:
        if not self.positions:
            return None
        if self.bank.grid is None:
            raise ValueError(f"{self.name}: reference position codes need the bank's latent grid (bank.grid)")
        return self.bank.grid

    def __call__(
        self, attn: Attention, hidden_states: torch.Tensor, encoder_hidden_states=None, attention_mask=None, **kwargs
    ) -> torch.Tensor:
        _check_plain_self_attention(attn, attention_mask)
        self.bank.features[self.name] = hidden_states
        return _attend(attn, hidden_states, hidden_states, None, self.grid())


class ReferenceReadProcessor(ReferenceWriteProcessor):
    """On the denoiser: attends to its own tokens plus the bank's tokens of the same name (repeated per frame;
    masked out for samples whose `keep` is False, which is then exactly plain self-attention). Without a bank entry
    it is plain self-attention (with `positions`, position codes still)."""

    def __call__(
        self, attn: Attention, hidden_states: torch.Tensor, encoder_hidden_states=None, attention_mask=None, **kwargs
    ) -> torch.Tensor:
        _check_plain_self_attention(attn, attention_mask)
        reference = self.bank.features.get(self.name)
        if reference is None:
            return _attend(attn, hidden_states, hidden_states, None, self.grid())
        rows, samples = hidden_states.shape[0], reference.shape[0]
        if rows % samples:
            raise ValueError(f"{self.name}: {rows} rows of tokens for a bank of {samples} references")
        frames = rows // samples  # the denoiser's rows are (sample, frame) in sample-major order
        reference = reference.to(hidden_states.dtype).repeat_interleave(frames, dim=0)
        context = torch.cat([hidden_states, reference], dim=1)
        mask = None
        if self.bank.keep is not None:
            keep = self.bank.keep.to(hidden_states.device).repeat_interleave(frames)
            mask = torch.ones(rows, 1, 1, context.shape[1], dtype=torch.bool, device=hidden_states.device)
            mask[:, 0, 0, hidden_states.shape[1] :] = keep[:, None]
        return _attend(attn, hidden_states, context, mask, self.grid())


def spatial_self_attention_names(unet: nn.Module) -> list[str]:
    """Processor names of the spatial self-attention layers (`...attn1.processor`, not the temporal ones)."""
    return [n for n in unet.attn_processors if n.endswith("attn1.processor") and "motion_modules" not in n]


def attach_reference_attention(
    reference_unet: nn.Module, denoising_unet: nn.Module, bank: ReferenceBank, positions: bool = False
) -> None:
    """Writers on every spatial self-attention of `reference_unet`, readers on the same names in `denoising_unet`
    (with `positions`: both add position codes, see the module's note); every other processor becomes diffusers'
    default (scaled dot-product) one."""
    writers = spatial_self_attention_names(reference_unet)
    readers = set(spatial_self_attention_names(denoising_unet))
    if set(writers) != readers:
        raise ValueError(f"ReferenceNet and denoiser self-attention layers differ: {sorted(readers ^ set(writers))}")

    def processors(unet: nn.Module, cls: type) -> dict:
        return {n: cls(bank, n, positions) if n in readers else AttnProcessor2_0() for n in unet.attn_processors}

    reference_unet.set_attn_processor(processors(reference_unet, ReferenceWriteProcessor))
    denoising_unet.set_attn_processor(processors(denoising_unet, ReferenceReadProcessor))
