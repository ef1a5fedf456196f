"""The epipolar attention constraint of AnimateAnywhere (arXiv 2504.19834), at latent resolution.

`epipolar_mask` turns the per-frame-pair geometry of a clip (models.data.background.epipolar_geometry: a homography
or a fundamental matrix in model pixels) into which key tokens each query token may attend to: in frame j, the
tokens within `tolerance` token-widths of the epipolar line F x_i (parallax) or of the transferred point H x_i (a
plane); within a frame, and for pairs without geometry, every token. `epipolar_attention_loss` is the training term
the issue defines: the suppressed set Omega = (1 - M) AND (A < delta) (attention off the lines, and not already
strong: a large weight off the lines is left to the diffusion loss) and the loss sum(Omega * A), here averaged over
query rows and heads so that its weight does not depend on the number of tokens.
"""

from __future__ import annotations

import torch

__all__ = ["epipolar_attention_loss", "epipolar_mask", "token_centres"]

_HOMOGRAPHY, _FUNDAMENTAL = 1, 2  # models.data.background's GEOMETRY_* (models.components does not import data)


def token_centres(grid: tuple[int, int], image: tuple[int, int], device: torch.device | None = None) -> torch.Tensor:
    """[h * w, 3] homogeneous pixel coordinates (x, y, 1) of the centres of an (h, w) token grid over an image of
    (H, W) pixels, row-major (pixel centres at integers, as the tracks')."""
    (h, w), (height, width) = grid, image
    ys = (torch.arange(h, device=device, dtype=torch.float64) + 0.5) * (height / h) - 0.5
    xs = (torch.arange(w, device=device, dtype=torch.float64) + 0.5) * (width / w) - 0.5
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.flatten(), gy.flatten(), torch.ones(h * w, dtype=torch.float64, device=device)], dim=1)


def epipolar_mask(
    matrices: torch.Tensor,
    kinds: torch.Tensor,
    grid: tuple[int, int],
    image: tuple[int, int],
    tolerance: float = 0.5,
) -> torch.Tensor:
    """bool [B, F*h*w, F*h*w] (queries frame-major, then row-major tokens) from `matrices` [B, F, F, 3, 3] and
    `kinds` [B, F, F]: True where attention is allowed. A key token is on the line (or at the transferred point)
    when its centre lies within `tolerance` token widths of it (0.5: the line crosses the token's inscribed
    circle)."""
    if matrices.ndim != 5 or matrices.shape[-2:] != (3, 3) or kinds.shape != matrices.shape[:3]:
        raise ValueError(f"matrices must be [B, F, F, 3, 3] and kinds [B, F, F], got {matrices.shape}, {kinds.shape}")
    b, f = matrices.shape[:2]
    h, w = grid
    n = h * w
    cell = max(image[0] / h, image[1] / w)
    radius = tolerance * cell
    centres = token_centres(grid, image, matrices.device)  # [n, 3]
    m = matrices.to(torch.float64)
    mapped = torch.einsum("bijkl,nl->bijnk", m, centres)  # per pair, each query token: H x or F x
    # Homography transfer: the key must lie near the mapped point (max-norm, in pixels).
    depth = mapped[..., 2:3]
    point = mapped[..., :2] / torch.where(depth.abs() > 1e-12, depth, torch.full_like(depth, 1e-12))
    near_point = (point[..., None, :] - centres[None, None, None, None, :, :2]).abs().amax(-1) <= radius
    # Fundamental matrix: distance of the key to the line l = F x.
    norm = mapped[..., :2].norm(dim=-1, keepdim=True).clamp_min(1e-12)
    distance = (mapped @ centres.T).abs() / norm  # [b, i, j, n_query, n_key]
    near_line = distance <= radius
    kind = kinds.to(matrices.device)[..., None, None]
    allowed = torch.where(kind == _HOMOGRAPHY, near_point, torch.where(kind == _FUNDAMENTAL, near_line, True))
    same = torch.eye(f, dtype=torch.bool, device=matrices.device)[None, :, :, None, None]
    allowed = allowed | same
    return allowed.permute(0, 1, 3, 2, 4).reshape(b, f * n, f * n)


def epipolar_attention_loss(attention: torch.Tensor, allowed: torch.Tensor, delta: float) -> torch.Tensor:
    """sum(Omega * A) per query row, averaged over rows and heads: `attention` [B, heads, N, N] (softmax weights),
    `allowed` [B, N, N] (`epipolar_mask`), Omega = (not allowed) and (A < delta), decided without gradient."""
    if attention.ndim != 4 or allowed.shape != (attention.shape[0], *attention.shape[2:]):
        raise ValueError(
            f"attention [B, heads, N, N] and mask [B, N, N] do not match: {attention.shape}, {allowed.shape}"
        )
    suppressed = (~allowed[:, None]) & (attention.detach() < delta)
    return (attention * suppressed).sum(dim=-1).mean()
