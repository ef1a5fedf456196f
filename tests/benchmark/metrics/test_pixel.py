"""PSNR, SSIM, LPIPS through pyiqa: the per-frame → per-video → over-videos convention, merge invariants, frame and
size handling, the stateless functions, and local LPIPS weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision

from benchmark.metrics.base import Sample
from benchmark.metrics.lpips import LPIPS, build_lpips, load_lpips_weights, lpips
from benchmark.metrics.pixel import PSNR, SSIM, psnr, ssim
from benchmark.protocol import Protocol, ProtocolMismatchError, get_protocol, sha256_file
from benchmark.video import resize_video

BD16 = get_protocol("bd16")


def _noisy_pair(frames: int, seed: int, sigma: float, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ref = rng.integers(30, 220, (frames, size - 8, size, 3)).astype(np.uint8)
    pred = np.clip(ref + rng.normal(0, sigma, ref.shape), 0, 255).round().astype(np.uint8)
    return pred, ref


def _psnr_by_hand(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    mse = ((pred.astype(np.float64) - ref.astype(np.float64)) / 255.0) ** 2
    return 10 * np.log10(1.0 / (mse.reshape(len(pred), -1).mean(1) + 1e-8))


def test_psnr_is_averaged_per_video_then_over_videos() -> None:
    metric = PSNR(BD16)
    short = _noisy_pair(2, seed=0, sigma=4.0)
    long = _noisy_pair(6, seed=1, sigma=20.0)
    v_short = metric.update(Sample("short", *short))
    v_long = metric.update(Sample("long", *long))
    assert v_short == pytest.approx(_psnr_by_hand(*short).mean(), rel=1e-5)
    assert v_long == pytest.approx(_psnr_by_hand(*long).mean(), rel=1e-5)
    assert metric.compute() == pytest.approx((v_short + v_long) / 2, rel=1e-12)
    all_frames = np.concatenate([_psnr_by_hand(*short), _psnr_by_hand(*long)]).mean()
    assert abs(metric.compute() - all_frames) > 1.0  # the convention matters: not the mean over all frames
    assert metric.per_video == {"short": v_short, "long": v_long}
    assert PSNR.higher_is_better and SSIM.higher_is_better and not LPIPS.higher_is_better


def test_psnr_of_identical_frames_is_capped_and_ssim_is_one() -> None:
    pred, _ = _noisy_pair(3, seed=2, sigma=0.0)
    assert PSNR(BD16).frame_values(pred, pred) == pytest.approx(80.0)
    assert SSIM(BD16).frame_values(pred, pred) == pytest.approx(1.0, abs=1e-6)
    ssim = SSIM(BD16)
    mild, strong = ssim.frame_values(*_noisy_pair(3, 2, 5.0)), ssim.frame_values(*_noisy_pair(3, 2, 40.0))
    assert np.all(strong < mild) and np.all(mild < 0.999)


def test_pixel_state_merges_and_refuses_duplicates() -> None:
    a, b = PSNR(BD16), PSNR(BD16)
    a.update(Sample("k1", *_noisy_pair(2, 3, 5.0)))
    b.update(Sample("k2", *_noisy_pair(2, 4, 5.0)))
    whole = PSNR(BD16)
    whole.update(Sample("k1", *_noisy_pair(2, 3, 5.0)))
    whole.update(Sample("k2", *_noisy_pair(2, 4, 5.0)))
    a.merge(b)
    assert a.compute() == pytest.approx(whole.compute(), rel=1e-12)
    with pytest.raises(ValueError, match="already scored"):
        a.update(Sample("k2", *_noisy_pair(2, 4, 5.0)))
    other = PSNR(get_protocol("bd16-uniform").__class__("bd16-px64", pixel_resolution=64))
    with pytest.raises(ProtocolMismatchError):
        a.merge(other)


def test_any_split_merges_into_the_whole() -> None:
    pairs = {f"k{i}": _noisy_pair(2 + i % 3, seed=10 + i, sigma=3.0 + 4 * i) for i in range(6)}
    whole = SSIM(BD16)
    for key, pair in pairs.items():
        whole.update(Sample(key, *pair))
    for split in ({"k0"}, {"k1", "k4"}, {"k0", "k2", "k3", "k5"}):
        first, second = SSIM(BD16), SSIM(BD16)
        for key, pair in pairs.items():
            (first if key in split else second).update(Sample(key, *pair))
        first.merge(second)
        assert first.per_video == whole.per_video
        assert first.state["count"] == whole.state["count"] == 6.0
        assert first.compute() == pytest.approx(whole.compute(), rel=1e-14)
    assert all(v.dtype == np.float64 for v in whole.state.values())


def test_stateless_functions_agree_with_the_metrics() -> None:
    pairs = [_noisy_pair(3, seed=20 + i, sigma=6.0 * (i + 1)) for i in range(3)]
    preds, refs = [p for p, _ in pairs], [r for _, r in pairs]
    for cls, function in ((PSNR, psnr), (SSIM, ssim)):
        metric = cls(BD16)
        values = [metric.update(Sample(f"v{i}", p, r)) for i, (p, r) in enumerate(pairs)]
        assert function(preds, refs) == pytest.approx(metric.compute(), rel=1e-12)
        assert metric.compute() == pytest.approx(np.mean(values), rel=1e-12)
        assert function(preds[0], refs[0]) == pytest.approx(values[0], rel=1e-12)  # one video, not a list
    with pytest.raises(ValueError, match="3 generated videos but 2 references"):
        psnr(preds, refs[:2])


def test_frame_counts_and_sizes_are_handled_by_the_metric() -> None:
    pred, ref = _noisy_pair(5, seed=30, sigma=10.0)
    with pytest.raises(ValueError, match=r"gen\.mp4 has 3 frames but its reference ref\.mp4 has 5"):
        PSNR(BD16).update(Sample("a", pred[:3], ref, pred_name="gen.mp4", ref_name="ref.mp4"))
    cut = PSNR(BD16, truncate_frames=True)
    value = cut.update(Sample("a", pred[:3], ref))
    assert value == pytest.approx(_psnr_by_hand(pred[:3], ref[:3]).mean(), rel=1e-5)
    assert cut.row().extras == {"truncated_videos": ["a"]} and cut.records["truncated"] == {"a": [3, 5]}
    with pytest.raises(ValueError, match=r"^a is 32x24 but its reference a is 40x32"):
        PSNR(BD16).update(Sample("a", pred, _noisy_pair(5, seed=30, sigma=10.0, size=40)[1]))
    px16 = Protocol("bd16-px16", pixel_resolution=16)
    resized = PSNR(px16).update(Sample("a", pred, ref))
    expected = _psnr_by_hand(resize_video(pred, 16), resize_video(ref, 16)).mean()
    assert resized == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="no ref"):
        PSNR(BD16).update(Sample("b", pred=pred))
    with pytest.raises(ValueError, match="frame_batch"):
        PSNR(BD16, frame_batch=0)
    with pytest.raises(TypeError, match="Protocol"):
        SSIM("bd16")


def _random_lpips_state(seed: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    net = build_lpips().net
    with torch.no_grad():
        for key, t in net.state_dict().items():
            if key.startswith("lin"):
                t.uniform_(0.0, 0.1)  # positive linear heads, as trained
    return {k: v.clone() for k, v in net.state_dict().items()}


def test_lpips_loads_local_weights_in_both_layouts(tmp_path) -> None:
    state = _random_lpips_state(0)
    full = tmp_path / "LPIPS_v0.1_alex-df73285e.pth"
    torch.save(state, full)
    metric = LPIPS(BD16, weights=full)
    pred, ref = _noisy_pair(2, seed=5, sigma=30.0, size=72)  # AlexNet needs ~64 px
    assert metric.frame_values(ref, ref) == pytest.approx(0.0, abs=1e-7)
    value = metric.update(Sample("a", pred, ref))
    assert value > 0
    assert metric.view == LPIPS.view_json(BD16.bind_weights("lpips-alex", sha256_file(full)))
    assert lpips([pred], [ref], weights=full, keys=["a"]) == pytest.approx(value, rel=1e-12)

    # The lpips package's layout: linear heads only, plus torchvision's AlexNet file for the trunk.
    heads = tmp_path / "alex.pth"
    torch.save({k: v for k, v in state.items() if k.startswith("lin")}, heads)
    alexnet = torchvision.models.alexnet(weights=None)
    slices = {1: range(0, 2), 2: range(2, 5), 3: range(5, 8), 4: range(8, 10), 5: range(10, 12)}
    with torch.no_grad():
        for key, t in alexnet.state_dict().items():
            if key.startswith("features."):
                i = int(key.split(".")[1])
                n = next(s for s, span in slices.items() if i in span)
                t.copy_(state[f"net.slice{n}.{key[len('features.') :]}"])
    trunk = tmp_path / "alexnet-owt-7be5be79.pth"
    torch.save(alexnet.state_dict(), trunk)
    split = LPIPS(BD16, weights=heads, trunk=trunk)
    both = f"{sha256_file(heads)}+{sha256_file(trunk)}"  # both files determine the values
    assert split.view == LPIPS.view_json(BD16.bind_weights("lpips-alex", both)) != metric.view
    assert split.frame_values(pred, ref) == pytest.approx(metric.frame_values(pred, ref), rel=1e-6)
    with pytest.raises(ValueError, match="AlexNet trunk"):
        load_lpips_weights(build_lpips().net, heads)


def test_the_fast_routes_give_pyiqas_values(tmp_path) -> None:
    """PSNR (integer sums), SSIM (separable float64 window) and LPIPS (channels-last) equal pyiqa's own metrics within
    1e-4 on frames of several sizes and noise levels, identical frames included."""
    full = tmp_path / "lpips.pth"
    torch.save(_random_lpips_state(1), full)
    metrics = [PSNR(BD16), SSIM(BD16), LPIPS(BD16, weights=full)]
    for size, sigma in ((72, 3.0), (96, 25.0), (80, 60.0)):
        pred, ref = _noisy_pair(3, seed=size, sigma=sigma, size=size)
        pred[0] = ref[0]  # identical frames: PSNR's cap, SSIM 1, LPIPS 0
        for metric in metrics:
            fast = metric.frame_values(pred, ref)
            slow = metric.pyiqa_frame_values(pred, ref, metric.pyiqa_metric())
            # random LPIPS weights give values near 3e-4: there the bar is relative
            atol = 1e-8 if metric.name == "lpips" else 1e-4
            np.testing.assert_allclose(fast, slow, rtol=1e-4, atol=atol, err_msg=f"{metric.name} {size} {sigma}")
            assert np.ptp(slow) > 10 * atol  # the frames differ, so a constant could not pass
