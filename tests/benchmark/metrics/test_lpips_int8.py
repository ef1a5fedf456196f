"""LPIPS on int8 limbs (`benchmark.metrics.lpips_int8`): the limbs' analytic error bound, features and values against
pyiqa's float32 network, identical frames, black frames, batch independence and the route's errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from benchmark.metrics.base import Sample
from benchmark.metrics.lpips import LPIPS, build_lpips
from benchmark.metrics.lpips_int8 import Int8LpipsNet, _weight_limbs, int8_route_available
from benchmark.protocol import get_protocol


def test_the_route_is_available_here() -> None:
    assert int8_route_available()  # x86 with PyTorch's oneDNN: where backdrop's CI and benchmarks run


def _net(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    net = build_lpips().net.eval()
    with torch.no_grad():
        for lin in net.lins:  # positive heads as trained, large enough for values near real LPIPS (0.05-0.5)
            lin.model[-1].weight.uniform_(0.0, 20.0 / lin.model[-1].weight.shape[1])
    return net


def _frames(n: int, size: tuple[int, int], seed: int, sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """Smooth random images (a photograph's spectrum, roughly) and a noisy, shifted copy."""
    rng = np.random.default_rng(seed)
    h, w = size
    ref = np.stack(
        [cv2.resize(rng.uniform(0, 255, (12, 12, 3)), (w, h), interpolation=cv2.INTER_CUBIC) for _ in range(n)]
    )
    ref = np.clip(ref + rng.normal(0, 4, ref.shape), 0, 255).round().astype(np.uint8)
    pred = np.roll(ref, 2, axis=2).astype(np.float64) + rng.normal(0, sigma, ref.shape)
    return np.clip(pred, 0, 255).round().astype(np.uint8), ref


def _float32_features(net: torch.nn.Module, frames: np.ndarray) -> list[torch.Tensor]:
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float() / 255.0
    with torch.inference_mode():
        return net.net(net.scaling_layer(2 * x - 1))


def test_weight_limbs_reconstruct_within_their_step() -> None:
    """hi * s + lo * s / 254 equals the weight within half a low step: max|w| / (2 * 127 * 254) per output channel."""
    w = (
        torch.randn(8, 5, 3, 3, dtype=torch.float64)
        * torch.logspace(-3, 1, 8, dtype=torch.float64)[:, None, None, None]
    )
    (hi, s_hi), (lo, s_lo) = _weight_limbs(w)
    assert hi.dtype == lo.dtype == torch.int8
    back = hi.double() * s_hi.double()[:, None, None, None] + lo.double() * s_lo.double()[:, None, None, None]
    bound = w.abs().amax(dim=(1, 2, 3)) / (2 * 127 * 254)
    err = (back - w).abs().amax(dim=(1, 2, 3))
    assert torch.all(err <= bound * 1.001 + 1e-7 * w.abs().amax(dim=(1, 2, 3)))  # float32 scales: 1e-7 relative
    assert torch.all(err > 0)  # 16 bits, not exact: the bound is what is tested, not a tautology


@pytest.mark.parametrize("size", [(96, 128), (77, 91)])
def test_features_and_values_match_float32(size: tuple[int, int]) -> None:
    net = _net(0)
    fast = Int8LpipsNet(net)
    pred, ref = _frames(3, size, seed=size[0], sigma=20.0)
    frames = np.concatenate([pred, ref])
    for layer, (exact, limbs) in enumerate(
        zip(_float32_features(net, frames), fast.features(torch.from_numpy(frames)), strict=True)
    ):
        assert exact.shape == limbs.shape
        rel = float((exact - limbs).abs().max() / exact.abs().max())
        assert rel < 3e-4, f"layer {layer + 1}: {rel:.1e}"
    with torch.inference_mode():
        x, y = (torch.from_numpy(v).permute(0, 3, 1, 2).float() / 255.0 for v in (pred, ref))
        expected = net(x, y, normalize=True).reshape(-1).double().numpy()
    got = fast.distance(torch.from_numpy(pred), torch.from_numpy(ref)).double().numpy()
    assert np.all(expected > 0.02)  # values of a real LPIPS's size, so the tolerance is not trivially met
    np.testing.assert_allclose(got, expected, rtol=5e-5, atol=0)


def test_identical_black_and_batched_frames() -> None:
    net = _net(1)
    fast = Int8LpipsNet(net)
    pred, ref = _frames(4, (72, 72), seed=3, sigma=30.0)
    p, r = torch.from_numpy(pred), torch.from_numpy(ref)
    assert torch.all(fast.distance(r, r) == 0)  # the same limbs on both sides: exactly zero
    black = torch.zeros_like(p)
    assert torch.isfinite(fast.distance(black, black)).all()  # all-zero activations: a scale of zero is handled
    together = fast.distance(p, r)
    alone = torch.cat([fast.distance(p[i : i + 1], r[i : i + 1]) for i in range(4)])
    assert torch.equal(alone, together)  # a pair's activation scales are its own: the other frames do not matter


def test_lpips_routes_agree_and_bad_routes_are_refused(tmp_path) -> None:
    weights = tmp_path / "lpips.pth"
    torch.save(_net(2).state_dict(), weights)
    bd16 = get_protocol("bd16")
    pred, ref = _frames(5, (80, 96), seed=7, sigma=12.0)
    int8 = LPIPS(bd16, weights=weights, frame_batch=2)  # batches of 2, 2, 1: the loop's ends
    assert int8.route == "int8-limbs"
    exact = LPIPS(bd16, weights=weights, route="float32")
    np.testing.assert_allclose(int8.frame_values(pred, ref), exact.frame_values(pred, ref), rtol=5e-5)
    for metric in (int8, exact):  # the row says which route computed it
        metric.update(Sample("a", pred, ref))
        assert metric.row().to_dict()["lpips_route"] == metric.route
    with pytest.raises(ValueError, match="unknown route 'fp8'"):
        LPIPS(bd16, weights=weights, route="fp8")
    with pytest.raises(ValueError, match="needs a CPU device"):
        LPIPS(bd16, weights=weights, route="int8-limbs", device="meta")
    with pytest.raises(ValueError, match=r"expected uint8 frames \(N, H, W, 3\)"):
        Int8LpipsNet(_net(2)).features(torch.zeros(1, 3, 64, 64))
