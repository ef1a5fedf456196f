"""PSNR, SSIM and LPIPS with pyiqa's definitions on the metric contract (`benchmark.metrics.base`): per frame,
averaged per video and then over videos. PSNR and SSIM are here, LPIPS (a network) in `benchmark.metrics.lpips`.

Convention (docs/metrics.md): for each matched pair the metric is computed on every frame pair, the frame values are
averaged into one value per video, and the reported value is the mean over videos, so every video weighs the same
whatever its length. (Several papers instead average over all frames of the test set, which weighs long videos more,
or report per-frame values of the first N frames only.) Inputs are RGB in [0, 1].

- PSNR: pyiqa `psnr` on RGB (test_y_channel=False), data range 1; identical frames give pyiqa's cap of
  10·log10(1/1e-8) = 80 dB (its eps), not infinity.
- SSIM: pyiqa `ssim` with its defaults: luma (Y of YCbCr) only, 11x11 Gaussian window σ=1.5, no downsampling.
- LPIPS: pyiqa's LPIPS v0.1 with the AlexNet trunk, inputs scaled to [-1, 1] inside.

Frames are compared at their native size (both videos the same size) unless the protocol has a `pixel_resolution`
(both resized, square); frame counts must agree unless the metric is built with `truncate_frames=True` (the first
min(T) frames are compared and the key is listed in the row's `truncated_videos`).

Speed (docs/metrics.md, reports/pixel_speed.md): the values are pyiqa's (within 1e-4; the tests compare them with
pyiqa's own metrics), the computation is not. pyiqa runs SSIM as an 11x11 float64 convolution; the Gaussian window
is separable, so SSIM here filters with two 1-D float64 passes (OpenCV's `sepFilter2D`) on the same rounded luma,
frame by frame (a frame's maps fit in the caches) on two threads, and PSNR sums the 8-bit differences with OpenCV.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import cv2
import numpy as np
import torch

from benchmark.metrics.base import MeanOverVideos, Sample, check_protocol, video_keys
from benchmark.protocol import Protocol, get_protocol
from benchmark.video import VideoError, resize_video

__all__ = [
    "PIXEL_CLASSES",
    "PSNR",
    "SSIM",
    "PixelMetric",
    "mean_over_pairs",
    "psnr",
    "psnr_frames",
    "ssim",
    "ssim_frames",
]


class PixelMetric(MeanOverVideos):
    """Per-pair metric: the mean over a pair's frames is the video's value (state: Σ values, number of videos)."""

    requires = ("pred", "ref")
    record_tables = ("truncated",)  # key -> [generated frames, reference frames] of pairs compared on min(T)
    pyiqa_name: ClassVar[str]
    pyiqa_options: ClassVar[dict[str, object]] = {}

    def __init__(
        self, protocol: Protocol, *, device: str = "cpu", frame_batch: int = 16, truncate_frames: bool = False
    ) -> None:
        check_protocol(protocol, self.name)
        if frame_batch < 1:
            raise ValueError(f"frame_batch must be >= 1, got {frame_batch}")
        self.device = torch.device(device)
        self.frame_batch = frame_batch
        self.truncate_frames = truncate_frames
        super().__init__(protocol)
        self.scorer = self._build()

    @classmethod
    def protocol_view(cls, protocol: Protocol) -> dict[str, Any]:
        return super().protocol_view(protocol) | {"pixel_resolution": protocol.pixel_resolution}

    def _build(self) -> torch.nn.Module | None:
        """The network the metric runs (LPIPS); PSNR and SSIM are computed here without one."""
        return None

    def pyiqa_metric(self) -> torch.nn.Module:
        """pyiqa's own metric of the same definition (what the fast route is checked and timed against)."""
        import pyiqa  # slow to import (~10 s)

        return pyiqa.create_metric(self.pyiqa_name, device=self.device, as_loss=False, **self.pyiqa_options)

    def frame_values(self, pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """One value per frame pair for uint8 videos [T, H, W, 3] of equal shape."""
        if pred.shape != ref.shape:
            raise ValueError(f"{self.name}: shapes differ: {pred.shape} vs {ref.shape}")
        return self.compute_frames(pred, ref)

    def compute_frames(self, pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @torch.no_grad()
    def pyiqa_frame_values(self, pred: np.ndarray, ref: np.ndarray, scorer: torch.nn.Module) -> np.ndarray:
        """The same values through pyiqa's metric `scorer` (`pyiqa_metric()`): the slow reference route."""
        out = []
        for i in range(0, pred.shape[0], self.frame_batch):
            p = torch.from_numpy(np.ascontiguousarray(pred[i : i + self.frame_batch])).permute(0, 3, 1, 2) / 255.0
            r = torch.from_numpy(np.ascontiguousarray(ref[i : i + self.frame_batch])).permute(0, 3, 1, 2) / 255.0
            out.append(scorer(p.to(self.device), r.to(self.device)).reshape(-1).double().cpu().numpy())
        return np.concatenate(out)

    def frame_pairs(self, sample: Sample) -> tuple[np.ndarray, np.ndarray]:
        """The frames compared: resized to the protocol's resolution (once per sample), cut to min(T) if allowed."""
        pred, ref = sample.pred, sample.ref
        size = self.protocol.pixel_resolution
        if size is not None:
            pred, ref = sample.derived(("resized", size), lambda: (resize_video(pred, size), resize_video(ref, size)))
        elif pred.shape[1:] != ref.shape[1:]:
            raise VideoError(
                f"{sample.name('pred')} is {pred.shape[2]}x{pred.shape[1]} but its reference {sample.name('ref')} is "
                f"{ref.shape[2]}x{ref.shape[1]}; compare them resized with --pixel-resolution S or a protocol with "
                "one (bd16-px256, bd16-px128)"
            )
        if pred.shape[0] != ref.shape[0]:
            if not self.truncate_frames:
                raise VideoError(
                    f"{sample.name('pred')} has {pred.shape[0]} frames but its reference {sample.name('ref')} has "
                    f"{ref.shape[0]}; pass --truncate-frames (truncate_frames=True) to compare the first min(T) frames"
                )
            t = min(pred.shape[0], ref.shape[0])
            pred, ref = pred[:t], ref[:t]
        return pred, ref

    def update(self, sample: Sample) -> float:
        """Score one pair: the mean over its frame pairs, kept under its key and added to the sums."""
        self.check_sample(sample)
        value = self.add_value(sample.key, float(np.mean(self.frame_values(*self.frame_pairs(sample)))))
        if sample.pred.shape[0] != sample.ref.shape[0]:  # compared on min(T): frame_pairs refuses it otherwise
            self.records["truncated"][sample.key] = [int(sample.pred.shape[0]), int(sample.ref.shape[0])]
        return value

    def extras(self) -> dict[str, Any]:
        return {"truncated_videos": sorted(self.records["truncated"])}


def psnr_frames(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """pyiqa's `psnr` (RGB, data range 1, eps 1e-8) per frame of uint8 videos [T, H, W, 3], from the sum of squared
    differences of the 8-bit frames (OpenCV's L2-squared norm: the integer sum to within 1e-15 relative)."""
    pairs = zip(pred, ref, strict=True)
    squares = [cv2.norm(np.ascontiguousarray(p), np.ascontiguousarray(r), cv2.NORM_L2SQR) for p, r in pairs]
    squares = np.array(squares, np.float64)
    mse = squares / (pred[0].size * 255.0**2)
    return 10.0 * np.log10(1.0 / (mse + 1e-8))


# pyiqa's RGB -> YIQ matrix (`pyiqa.utils.color_util.rgb2yiq`); SSIM reads its Y row.
_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.5959, -0.2746, -0.3213], [0.2115, -0.5227, 0.3112]]).t()
_SSIM_WINDOW, _SSIM_SIGMA = 11, 1.5
#: Threads computing SSIM frame by frame (a frame's maps fit in the caches, a whole video's do not).
_SSIM_THREADS = 2


def _luma(frame: np.ndarray) -> np.ndarray:
    """pyiqa's SSIM input: Y of YIQ from RGB in [0, 1] (float32, the same matrix product), times 255, rounded."""
    x = torch.from_numpy(np.ascontiguousarray(frame)).float() / 255.0
    y = torch.matmul(x, _YIQ)[..., 0] * 255
    return y.round().double().numpy()


def _gaussian_1d(size: int = _SSIM_WINDOW, sigma: float = _SSIM_SIGMA) -> np.ndarray:
    # MATLAB's fspecial('gaussian') is the outer product of this window with itself.
    half = (size - 1) / 2.0
    x = np.arange(-half, half + 1)
    g = np.exp(-x * x / (2.0 * sigma * sigma))
    return g / g.sum()


def _valid_filter(image: np.ndarray, window: np.ndarray) -> np.ndarray:
    """The separable 2-D correlation of an [H, W] float64 map with window x window, 'valid' part only."""
    border = len(window) // 2
    filtered = cv2.sepFilter2D(image, cv2.CV_64F, window, window, borderType=cv2.BORDER_CONSTANT)
    return filtered[border:-border, border:-border]


def _ssim_frame(pred: np.ndarray, ref: np.ndarray, window: np.ndarray) -> float:
    x, y = _luma(pred), _luma(ref)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mu1, mu2 = _valid_filter(x, window), _valid_filter(y, window)
    sigma1 = _valid_filter(x * x, window) - mu1 * mu1
    sigma2 = _valid_filter(y * y, window) - mu2 * mu2
    sigma12 = _valid_filter(x * y, window) - mu1 * mu2
    contrast_structure = np.maximum((2 * sigma12 + c2) / (sigma1 + sigma2 + c2), 0.0)  # pyiqa clamps at 0 (relu)
    return float(((2 * mu1 * mu2 + c1) / (mu1 * mu1 + mu2 * mu2 + c1) * contrast_structure).mean())


def ssim_frames(pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """pyiqa's `ssim` (luma, 11x11 Gaussian window with sigma 1.5, no downsampling, data range 255) per frame of uint8
    videos [T, H, W, 3], in float64 with the window applied as two 1-D passes, frame by frame on two threads (OpenCV
    and numpy release the GIL)."""
    window = _gaussian_1d()
    if min(pred.shape[1:3]) < len(window):
        raise ValueError(
            f"ssim: frames of {pred.shape[2]}x{pred.shape[1]} are smaller than the {len(window)}-pixel window"
        )
    with ThreadPoolExecutor(_SSIM_THREADS) as pool:
        values = pool.map(lambda pair: _ssim_frame(*pair, window), zip(pred, ref, strict=True))
        return np.fromiter(values, np.float64, count=len(pred))


class PSNR(PixelMetric):
    name = "psnr"
    higher_is_better = True
    unit = "dB"
    pyiqa_name = "psnr"
    pyiqa_options: ClassVar[dict[str, object]] = {"test_y_channel": False}

    def compute_frames(self, pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
        return psnr_frames(pred, ref)


class SSIM(PixelMetric):
    name = "ssim"
    higher_is_better = True
    unit = "similarity (1 = identical)"
    pyiqa_name = "ssim"
    pyiqa_options: ClassVar[dict[str, object]] = {"test_y_channel": True, "downsample": False}

    def compute_frames(self, pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
        return ssim_frames(pred, ref)


#: The metrics without a network; `benchmark.metrics.metric_class` adds LPIPS.
PIXEL_CLASSES: dict[str, type[PixelMetric]] = {cls.name: cls for cls in (PSNR, SSIM)}


def _videos(videos: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    # A single uint8 video [T, H, W, 3] stands for a list of one.
    return [videos] if isinstance(videos, np.ndarray) and videos.ndim == 4 else list(videos)


def mean_over_pairs(
    metric: PixelMetric,
    preds: np.ndarray | Sequence[np.ndarray],
    refs: np.ndarray | Sequence[np.ndarray],
    keys: Sequence[str] | None,
) -> float:
    """Score pairs of videos (generated, reference) in order with `metric`; its value over them."""
    preds, refs = _videos(preds), _videos(refs)
    if len(preds) != len(refs):
        raise ValueError(f"{metric.name}: {len(preds)} generated videos but {len(refs)} references")
    for key, pred, ref in zip(video_keys(keys, len(preds), metric.name), preds, refs, strict=True):
        metric.update(Sample(key, pred=pred, ref=ref))
    return metric.compute()


def psnr(
    preds: np.ndarray | Sequence[np.ndarray],
    refs: np.ndarray | Sequence[np.ndarray],
    *,
    protocol: Protocol | None = None,
    keys: Sequence[str] | None = None,
    device: str = "cpu",
    truncate_frames: bool = False,
) -> float:
    """PSNR of generated uint8 videos against their references, paired in order: per frame, mean per video, mean
    over videos (protocol bd16 unless given). A single video [T, H, W, 3] stands for a list of one."""
    metric = PSNR(protocol or get_protocol("bd16"), device=device, truncate_frames=truncate_frames)
    return mean_over_pairs(metric, preds, refs, keys)


def ssim(
    preds: np.ndarray | Sequence[np.ndarray],
    refs: np.ndarray | Sequence[np.ndarray],
    *,
    protocol: Protocol | None = None,
    keys: Sequence[str] | None = None,
    device: str = "cpu",
    truncate_frames: bool = False,
) -> float:
    """SSIM (luma) of generated uint8 videos against their references, averaged as `psnr`."""
    metric = SSIM(protocol or get_protocol("bd16"), device=device, truncate_frames=truncate_frames)
    return mean_over_pairs(metric, preds, refs, keys)
