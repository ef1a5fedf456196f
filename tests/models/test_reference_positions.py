"""Reference attention's position codes (ModelConfig.reference_positions): the token grids of a UNet's layers, and a
read that returns the reference place by place with the codes and one mix of it everywhere without them."""

from __future__ import annotations

import pytest
import torch
from diffusers.models.attention_processor import Attention
from diffusers.models.embeddings import get_2d_sincos_pos_embed

from models.components.reference_attention import ReferenceBank, ReferenceReadProcessor, position_code, token_grid


def test_token_grids_halve_as_the_unet_downsamples() -> None:
    assert token_grid(256, (16, 16)) == (16, 16)
    assert token_grid(64, (16, 16)) == (8, 8)
    assert token_grid(16, (16, 16)) == (4, 4)
    # odd sides round up, as a stride-2 convolution with padding 1 does: 15 x 9 -> 8 x 5 -> 4 x 3
    assert token_grid(40, (15, 9)) == (8, 5)
    assert token_grid(12, (15, 9)) == (4, 3)
    with pytest.raises(ValueError, match="50 tokens are no grid of latents"):
        token_grid(50, (16, 16))


def test_position_codes_tell_places_apart() -> None:
    code = position_code(256, 64, (16, 16), torch.zeros(1))
    similarity = code @ code.T
    assert code.shape == (256, 64)
    assert torch.equal(similarity.argmax(dim=1), torch.arange(256))
    # other places share at most half the code (same row or column), 9% on average; diffusers' transformer code
    # shares 77% on average on this grid (the figures of position_code's docstring)
    other = ~torch.eye(256, dtype=torch.bool)
    self_similarity = similarity.diagonal()[0]
    assert similarity[other].max() <= 0.5 * self_similarity + 1e-4
    assert similarity[other].abs().mean() / self_similarity == pytest.approx(0.086, abs=5e-4)
    usual = get_2d_sincos_pos_embed(64, (16, 16), base_size=16)
    usual_similarity = usual @ usual.T
    assert usual_similarity[other].abs().mean() / usual_similarity[0, 0] == pytest.approx(0.768, abs=5e-4)
    with pytest.raises(ValueError, match="divisible by 4"):
        position_code(64, 30, (8, 8), torch.zeros(1))


def _attention(channels: int, sharpness: float, content: torch.Tensor) -> Attention:
    """One head whose queries and keys are `sharpness` times their input without its `content` direction; values and
    output are the input itself."""
    attn = Attention(query_dim=channels, heads=1, dim_head=channels, bias=False, out_bias=False)
    eye = torch.eye(channels)
    blind = eye - torch.outer(content, content)
    with torch.no_grad():
        attn.to_q.weight.copy_(sharpness * blind)
        attn.to_k.weight.copy_(sharpness * blind)
        attn.to_v.weight.copy_(eye)
        attn.to_out[0].weight.copy_(eye)
    return attn


@torch.no_grad()
def test_with_positions_the_read_returns_the_reference_place_by_place() -> None:
    channels, grid = 32, (8, 8)
    tokens = grid[0] * grid[1]
    g = torch.Generator().manual_seed(0)
    direction = torch.nn.functional.normalize(torch.randn(channels, generator=g), dim=0)
    # the reference's tokens carry content along one direction, which queries and keys do not see: only places
    # can match them
    reference = torch.randn(1, tokens, 1, generator=g) * direction
    attn = _attention(channels, sharpness=5.0, content=direction)
    own = torch.zeros(1, tokens, channels)  # the denoiser's own tokens carry nothing: only their places
    bank = ReferenceBank()
    bank.features["layer"], bank.grid = reference, grid

    placed = ReferenceReadProcessor(bank, "layer", positions=True)(attn, own)
    # each place attends to its own (zero) token and the reference's token at the same place, equally
    torch.testing.assert_close(placed, reference / 2, rtol=0, atol=1e-4)

    mixed = ReferenceReadProcessor(bank, "layer", positions=False)(attn, own)
    # without codes every query is the same: one mix of the whole reference at every place
    torch.testing.assert_close(mixed, reference.mean(dim=1, keepdim=True).expand_as(mixed) / 2, rtol=0, atol=1e-6)


def test_positions_need_the_bank_grid() -> None:
    attn = _attention(8, sharpness=1.0, content=torch.eye(8)[0])
    with pytest.raises(ValueError, match="latent grid"):
        ReferenceReadProcessor(ReferenceBank(), "layer", positions=True)(attn, torch.zeros(1, 4, 8))
