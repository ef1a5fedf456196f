"""PSNR, SSIM and LPIPS through pyiqa, per frame, averaged per video and then over videos.

Convention (docs/metrics.md): for each matched pair the metric is computed on every frame pair, the frame values are
averaged into one value per video, and the reported value is the mean over videos, so every video weighs the same
whatever its length. (Several papers instead average over all frames of the test set, which weighs long videos more,
or report per-frame values of the first N frames only.) Inputs are RGB in [0, 1].

- PSNR: pyiqa `psnr` on RGB (test_y_channel=False), data range 1; identical frames give pyiqa's cap of
  10·log10(1/1e-8) = 80 dB (its eps), not infinity.
- SSIM: pyiqa `ssim` with its defaults: luma (Y of YCbCr) only, 11x11 Gaussian window σ=1.5, no downsampling.
- LPIPS: pyiqa's LPIPS v0.1 with the AlexNet trunk, inputs scaled to [-1, 1] inside.

pyiqa loads weights with pickle enabled and its AlexNet trunk always asks torchvision for ImageNet weights (a
download), so LPIPS is built here with the trunk created without weights, and both the LPIPS and the trunk weights
are loaded from local files with weights_only=True and strict=True. Note pyiqa's licence is non-commercial.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch

from benchmark.features.base import load_state_dict_file
from benchmark.protocol import Protocol, require_same_view, sha256_file

__all__ = ["LPIPS", "PSNR", "SSIM", "PixelMetric", "build_lpips", "load_lpips_weights"]

# pyiqa's AlexNet wrapper splits torchvision's `features` into five slices at these indices.
_ALEX_SLICES = ((1, range(0, 2)), (2, range(2, 5)), (3, range(5, 8)), (4, range(8, 10)), (5, range(10, 12)))


class PixelMetric:
    """Per-pair metric: summable state (Σ per-video means, number of videos) plus the per-video values."""

    name: ClassVar[str]
    higher_is_better: ClassVar[bool]
    pyiqa_name: ClassVar[str]
    pyiqa_options: ClassVar[dict[str, object]] = {}

    def __init__(self, protocol: Protocol, *, device: str = "cpu", frame_batch: int = 16) -> None:
        if not isinstance(protocol, Protocol):
            raise TypeError(f"{self.name}: protocol must be a Protocol, got {type(protocol).__name__}")
        if frame_batch < 1:
            raise ValueError(f"frame_batch must be >= 1, got {frame_batch}")
        self.protocol = protocol
        self.device = torch.device(device)
        self.frame_batch = frame_batch
        self.view = protocol.view_json(self.name)
        self.per_video: dict[str, float] = {}
        self.total = 0.0
        self.n = 0
        self.scorer = self._build()

    def _build(self) -> torch.nn.Module:
        import pyiqa  # slow to import (~10 s); only when a pixel metric is asked for

        return pyiqa.create_metric(self.pyiqa_name, device=self.device, as_loss=False, **self.pyiqa_options)

    @torch.no_grad()
    def frame_values(self, pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """One value per frame pair for uint8 videos [T, H, W, 3] of equal shape."""
        if pred.shape != ref.shape:
            raise ValueError(f"{self.name}: shapes differ: {pred.shape} vs {ref.shape}")
        out = []
        for i in range(0, pred.shape[0], self.frame_batch):
            p = torch.from_numpy(np.ascontiguousarray(pred[i : i + self.frame_batch])).permute(0, 3, 1, 2) / 255.0
            r = torch.from_numpy(np.ascontiguousarray(ref[i : i + self.frame_batch])).permute(0, 3, 1, 2) / 255.0
            out.append(self.scorer(p.to(self.device), r.to(self.device)).reshape(-1).double().cpu().numpy())
        return np.concatenate(out)

    def update(self, pred: np.ndarray, ref: np.ndarray, *, key: str) -> float:
        """Score one pair: the mean over its frames, kept under `key` and added to the running sum."""
        if key in self.per_video:
            raise ValueError(f"{self.name}: video {key!r} was already scored")
        value = float(np.mean(self.frame_values(pred, ref)))
        if not np.isfinite(value):
            raise ValueError(f"{self.name}: non-finite value for video {key!r}")
        self.per_video[key] = value
        self.total += value
        self.n += 1
        return value

    def merge(self, other: PixelMetric) -> None:
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        require_same_view(other.view, self.view, what=f"{self.name} state being merged")
        overlap = set(self.per_video) & set(other.per_video)
        if overlap:
            raise ValueError(f"{self.name}: both states scored {sorted(overlap)[:5]}")
        self.per_video.update(other.per_video)
        self.total += other.total
        self.n += other.n

    def compute(self) -> float:
        if self.n == 0:
            raise ValueError(f"{self.name}: no videos scored")
        return self.total / self.n


class PSNR(PixelMetric):
    name = "psnr"
    higher_is_better = True
    pyiqa_name = "psnr"
    pyiqa_options: ClassVar[dict[str, object]] = {"test_y_channel": False}


class SSIM(PixelMetric):
    name = "ssim"
    higher_is_better = True
    pyiqa_name = "ssim"
    pyiqa_options: ClassVar[dict[str, object]] = {"test_y_channel": True, "downsample": False}


@contextlib.contextmanager
def _alexnet_without_download() -> Iterator[None]:
    """While building pyiqa's LPIPS, make its `models.alexnet(weights=...)` build the trunk without weights."""
    import pyiqa.archs.lpips_arch as arch
    import torchvision.models

    real = arch.models
    arch.models = types.SimpleNamespace(alexnet=lambda **_: torchvision.models.alexnet(weights=None))
    try:
        yield
    finally:
        arch.models = real


def build_lpips(*, device: str = "cpu") -> torch.nn.Module:
    """pyiqa's LPIPS (v0.1, AlexNet) with random weights; nothing is downloaded."""
    import pyiqa

    with _alexnet_without_download():
        return pyiqa.create_metric("lpips", device=torch.device(device), as_loss=False, pretrained=False)


def load_lpips_weights(net: torch.nn.Module, path: str | Path, *, trunk: str | Path | None = None) -> None:
    """Load LPIPS weights strictly into pyiqa's LPIPS network `net`.

    `path` holds either the whole network (keys `net.slice*`, `lin*`) or, like the `lpips` package's alex.pth, only
    the linear heads (`lin*`); then `trunk` must be torchvision's AlexNet state dict (keys `features.N.*`).
    """
    state = load_state_dict_file(path)
    if not any(k.startswith("net.") for k in state):
        if trunk is None:
            raise ValueError(
                f"{path} holds only the LPIPS linear layers; also give the AlexNet trunk weights "
                "(torchvision's alexnet-owt-7be5be79.pth, https://download.pytorch.org/models/alexnet-owt-7be5be79.pth)"
            )
        for key, value in load_state_dict_file(trunk).items():
            if not key.startswith("features."):
                continue  # the classifier is not part of LPIPS
            index = int(key.split(".")[1])
            slice_no = next(n for n, span in _ALEX_SLICES if index in span)
            state[f"net.slice{slice_no}.{key[len('features.') :]}"] = value
    # The scaling layer holds fixed constants (not in the original lpips files): keep the module's own.
    for key, value in net.state_dict().items():
        if key.startswith("scaling_layer."):
            state.setdefault(key, value)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path}: weights do not match pyiqa's LPIPS (alex): {exc}") from exc
    net.eval()


class LPIPS(PixelMetric):
    name = "lpips"
    higher_is_better = False
    pyiqa_name = "lpips"

    def __init__(
        self,
        protocol: Protocol,
        *,
        weights: str | Path,
        trunk: str | Path | None = None,
        device: str = "cpu",
        frame_batch: int = 16,
    ) -> None:
        self._weights = Path(weights)
        self._trunk = Path(trunk) if trunk is not None else None
        sha = sha256_file(self._weights)
        if self._trunk is not None:  # both files determine the values: hash them together
            sha = f"{sha}+{sha256_file(self._trunk)}"
        super().__init__(protocol.bind_weights("lpips-alex", sha), device=device, frame_batch=frame_batch)

    def _build(self) -> torch.nn.Module:
        scorer = build_lpips(device=str(self.device))
        load_lpips_weights(scorer.net, self._weights, trunk=self._trunk)
        return scorer
