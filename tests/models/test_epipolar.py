"""The epipolar constraint at latent resolution: the mask of a known fundamental matrix is the set of tokens its
analytic epipolar lines cross, a homography's is the transferred point, and the loss is zero when attention lies on
the lines and positive otherwise."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.components.epipolar import epipolar_attention_loss, epipolar_mask, token_centres

IMAGE, GRID = (64, 96), (8, 12)  # 8-pixel tokens


def _skew(t: np.ndarray) -> np.ndarray:
    return np.array([[0, -t[2], t[1]], [t[2], 0, -t[0]], [-t[1], t[0], 0]], np.float64)


def _fundamental() -> np.ndarray:
    """F of two views of one camera K, the second translated by t and rotated about y: F = K^-T [t]x R K^-1."""
    k = np.array([[80.0, 0, 47.5], [0, 80.0, 31.5], [0, 0, 1]])
    angle = np.radians(4.0)
    r = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    t = np.array([1.0, 0.3, 0.2])
    k_inv = np.linalg.inv(k)
    return k_inv.T @ _skew(t) @ r @ k_inv


def _pair(matrix: np.ndarray, kind: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A two-frame clip whose (0 -> 1) geometry is `matrix` ((1 -> 0) its inverse or transpose)."""
    matrices = torch.eye(3, dtype=torch.float64).repeat(1, 2, 2, 1, 1)
    matrices[0, 0, 1] = torch.from_numpy(matrix)
    matrices[0, 1, 0] = torch.from_numpy(np.linalg.inv(matrix) if kind == 1 else matrix.T)
    kinds = torch.tensor([[[0, kind], [kind, 0]]])
    return matrices, kinds


def test_mask_of_a_known_fundamental_matrix_follows_its_analytic_lines() -> None:
    f = _fundamental()
    matrices, kinds = _pair(f, 2)
    allowed = epipolar_mask(matrices, kinds, GRID, IMAGE, tolerance=0.5)[0].numpy()
    n = GRID[0] * GRID[1]
    centres = token_centres(GRID, IMAGE).numpy()
    checked = 0
    for query in range(0, n, 7):
        x = centres[query]
        a, b, c = f @ x  # the analytic epipolar line a x + b y + c = 0 in frame 1
        distance = np.abs(a * centres[:, 0] + b * centres[:, 1] + c) / np.hypot(a, b)
        expected = distance <= 4.0  # half a token (8 pixels)
        assert (allowed[query, n:] == expected).all(), query  # frame 0 query -> frame 1 keys
        assert expected.any()
        assert allowed[query, :n].all()  # within its own frame: everything
        checked += 1
    assert checked > 10


def test_a_pure_horizontal_translation_allows_the_same_row_only() -> None:
    f = _skew(np.array([1.0, 0.0, 0.0]))  # lines y' = y: tokens of the query's row
    allowed = epipolar_mask(*_pair(f, 2), GRID, IMAGE)[0]
    n = GRID[0] * GRID[1]
    rows = torch.arange(n) // GRID[1]
    assert torch.equal(allowed[:n, n:], rows[:, None] == rows[None, :])


def test_homography_transfer_allows_the_token_the_point_lands_in() -> None:
    shift = np.array([[1.0, 0, 16.0], [0, 1.0, 8.0], [0, 0, 1]])  # two tokens right, one down
    allowed = epipolar_mask(*_pair(shift, 1), GRID, IMAGE)[0]
    n, w = GRID[0] * GRID[1], GRID[1]
    query = 2 * w + 3  # row 2, column 3 -> row 3, column 5
    assert torch.nonzero(allowed[query, n:]).flatten().tolist() == [3 * w + 5]
    assert torch.nonzero(allowed[n + 3 * w + 5, :n]).flatten().tolist() == [query]  # and back
    corner = (GRID[0] - 1) * w + (w - 1)  # its point leaves the frame: nothing to attend to in frame 1
    assert not allowed[corner, n:].any()


def test_no_geometry_constrains_nothing() -> None:
    matrices, kinds = _pair(_fundamental(), 2)
    assert epipolar_mask(matrices, torch.zeros_like(kinds), GRID, IMAGE).all()


def test_the_loss_is_zero_on_the_lines_and_positive_off_them() -> None:
    allowed = epipolar_mask(*_pair(_fundamental(), 2), GRID, IMAGE)
    n = allowed.shape[-1]
    on = allowed.double() / allowed.double().sum(-1, keepdim=True)  # rows spread over allowed keys only
    assert float(epipolar_attention_loss(on[:, None], allowed, delta=1.0)) == 0.0
    uniform = torch.full((1, 1, n, n), 1.0 / n, dtype=torch.float64, requires_grad=True)
    loss = epipolar_attention_loss(uniform, allowed, delta=1.0)
    off_share = float((~allowed).double().sum(-1).mean() / n)
    assert float(loss.detach()) == pytest.approx(off_share) and off_share > 0.25  # half the keys: own frame
    loss.backward()
    assert (uniform.grad[0, 0][~allowed[0]] > 0).all() and (uniform.grad[0, 0][allowed[0]] == 0).all()
    # Omega leaves out weights at or above delta: a strong match off the lines is not suppressed.
    assert float(epipolar_attention_loss(uniform.detach(), allowed, delta=0.5 / n)) == 0.0


def test_shapes_are_checked() -> None:
    with pytest.raises(ValueError, match="matrices must be"):
        epipolar_mask(torch.eye(3)[None], torch.zeros(1, 1, 1), GRID, IMAGE)
    with pytest.raises(ValueError, match="do not match"):
        epipolar_attention_loss(torch.zeros(1, 1, 4, 4), torch.ones(1, 3, 3, dtype=torch.bool), 0.1)
