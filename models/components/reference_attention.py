"""Reference attention: the ReferenceNet's self-attention inputs, read by the denoiser's self-attention.

AnimateAnyone's ReferenceNet is a UNet run on the reference image; each of its spatial transformer blocks keeps the
normalised input of its self-attention (`attn1`) in a bank, and the denoiser's block of the same name attends to its
own tokens plus the bank's (repeated for every frame). Here that is two diffusers attention processors sharing one
`ReferenceBank`; writer and reader pair by module name, which is the same in a UNet2DConditionModel and in the
UNetMotionModel built from it (temporal attention lives under `motion_modules` and is left alone).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, AttnProcessor2_0
from torch import nn

__all__ = [
    "ReferenceBank",
    "ReferenceReadProcessor",
    "ReferenceWriteProcessor",
    "attach_reference_attention",
    "spatial_self_attention_names",
]


class ReferenceBank:
    """Self-attention inputs of the ReferenceNet by processor name ([B, tokens, channels] each), which samples use
    them (`keep`, [B] bool; None: all) and, for a `reference_concat` model, the reference latents (`latents`). Filled
    by one ReferenceNet forward, read by the denoiser, cleared before the next step's ReferenceNet forward (not after
    the denoiser's: gradient checkpointing recomputes the reading blocks during backward and needs the bank then)."""

    def __init__(self) -> None:
        self.features: dict[str, torch.Tensor] = {}
        self.keep: torch.Tensor | None = None
        self.latents: torch.Tensor | None = None

    def clear(self) -> None:
        self.features.clear()
        self.keep = None
        self.latents = None

    def __len__(self) -> int:
        return len(self.features)


def _check_plain_self_attention(attn: Attention, attention_mask: torch.Tensor | None) -> None:
    # Processors below handle the self-attention of diffusers' BasicTransformerBlock only: tokens in [N, L, C], no
    # group/spatial norm, residual added by the block. Anything else is a wiring mistake, refused loudly.
    if attn.spatial_norm is not None or attn.group_norm is not None or attn.residual_connection:
        raise ValueError("reference attention expects a plain self-attention (BasicTransformerBlock.attn1)")
    if attention_mask is not None:
        raise ValueError("reference attention does not take an attention mask")


def _attend(attn: Attention, tokens: torch.Tensor, context: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    batch = tokens.shape[0]
    query, key, value = attn.to_q(tokens), attn.to_k(context), attn.to_v(context)
    head_dim = key.shape[-1] // attn.heads
    query, key, value = (t.view(batch, -1, attn.heads, head_dim).transpose(1, 2) for t in (query, key, value))
    out = F.scaled_dot_product_attention(query, key, value, attn_mask=mask)
    out = out.transpose(1, 2).reshape(batch, -1, attn.heads * head_dim).to(query.dtype)
    return attn.to_out[1](attn.to_out[0](out)) / attn.rescale_output_factor


class ReferenceWriteProcessor:
    """On the ReferenceNet: stores the self-attention input under `name`, then attends as usual."""

    def __init__(self, bank: ReferenceBank, name: str) -> None:
        self.bank, self.name = bank, name

    def __call__(
        self, attn: Attention, hidden_states: torch.Tensor, encoder_hidden_states=None, attention_mask=None, **kwargs
    ) -> torch.Tensor:
        _check_plain_self_attention(attn, attention_mask)
        self.bank.features[self.name] = hidden_states
        return _attend(attn, hidden_states, hidden_states, None)


class ReferenceReadProcessor:
    """On the denoiser: attends to its own tokens plus the bank's tokens of the same name (repeated per frame;
    masked out for samples whose `keep` is False, which is then exactly plain self-attention). Without a bank entry
    it is plain self-attention."""

    def __init__(self, bank: ReferenceBank, name: str) -> None:
        self.bank, self.name = bank, name

    def __call__(
        self, attn: Attention, hidden_states: torch.Tensor, encoder_hidden_states=None, attention_mask=None, **kwargs
    ) -> torch.Tensor:
        _check_plain_self_attention(attn, attention_mask)
        reference = self.bank.features.get(self.name)
        if reference is None:
            return _attend(attn, hidden_states, hidden_states, None)
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
        return _attend(attn, hidden_states, context, mask)


def spatial_self_attention_names(unet: nn.Module) -> list[str]:
    """Processor names of the spatial self-attention layers (`...attn1.processor`, not the temporal ones)."""
    return [n for n in unet.attn_processors if n.endswith("attn1.processor") and "motion_modules" not in n]


def attach_reference_attention(reference_unet: nn.Module, denoising_unet: nn.Module, bank: ReferenceBank) -> None:
    """Writers on every spatial self-attention of `reference_unet`, readers on the same names in `denoising_unet`;
    every other processor becomes diffusers' default (scaled dot-product) one."""
    writers = spatial_self_attention_names(reference_unet)
    readers = set(spatial_self_attention_names(denoising_unet))
    if set(writers) != readers:
        raise ValueError(f"ReferenceNet and denoiser self-attention layers differ: {sorted(readers ^ set(writers))}")

    def processors(unet: nn.Module, cls: type) -> dict:
        return {n: cls(bank, n) if n in readers else AttnProcessor2_0() for n in unet.attn_processors}

    reference_unet.set_attn_processor(processors(reference_unet, ReferenceWriteProcessor))
    denoising_unet.set_attn_processor(processors(denoising_unet, ReferenceReadProcessor))
