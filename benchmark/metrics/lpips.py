"""LPIPS (v0.1, AlexNet trunk) with pyiqa's definition on the metric contract: pyiqa's own network, built without a
download, weights loaded strictly from local files with weights_only=True.

pyiqa loads weights with pickle enabled and its AlexNet trunk always asks torchvision for ImageNet weights (a
download), so LPIPS is built here with the trunk created without weights, and both the LPIPS and the trunk weights
are loaded from local files. Inputs are uint8 RGB frames, scaled to [-1, 1] inside the network. The cost is the
AlexNet itself (reports/pixel_speed.md). Note pyiqa's licence is non-commercial.

Two routes compute the same values: `float32` runs pyiqa's network as it is (channels-last); `int8-limbs`
(`benchmark.metrics.lpips_int8`, the default on x86 CPUs) runs its convolutions as exact int8 products of 8-bit limbs,
within about 1e-5 relative of float32 and 2.8x faster on one core here (reports/pixel_speed.md).
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmark.metrics.base import check_protocol
from benchmark.metrics.lpips_int8 import Int8LpipsNet, int8_route_available
from benchmark.metrics.pixel import PixelMetric, mean_over_pairs
from benchmark.protocol import Protocol, get_protocol, sha256_file
from curation.weights import load_state_dict_file

__all__ = ["LPIPS", "LPIPS_ROUTES", "build_lpips", "load_lpips_weights", "lpips"]

LPIPS_ROUTES = ("auto", "int8-limbs", "float32")

# pyiqa's AlexNet wrapper splits torchvision's `features` into five slices at these indices.
_ALEX_SLICES = ((1, range(0, 2)), (2, range(2, 5)), (3, range(5, 8)), (4, range(8, 10)), (5, range(10, 12)))


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
    unit = "distance (0 = identical)"
    pyiqa_name = "lpips"

    def __init__(
        self,
        protocol: Protocol,
        *,
        weights: str | Path,
        trunk: str | Path | None = None,
        device: str = "cpu",
        frame_batch: int = 16,
        truncate_frames: bool = False,
        route: str = "auto",
    ) -> None:
        """`route`: `int8-limbs` (CPU only), `float32`, or `auto` (int8-limbs on a CPU that has oneDNN's int8
        operators, float32 elsewhere, a GPU included); the values agree within about 1e-5 relative."""
        check_protocol(protocol, self.name)
        if route not in LPIPS_ROUTES:
            raise ValueError(f"lpips: unknown route {route!r}; known: {list(LPIPS_ROUTES)}")
        on_cpu = torch.device(device).type == "cpu"
        if route == "int8-limbs" and not (on_cpu and int8_route_available()):
            raise ValueError(
                f"lpips: the int8-limbs route needs a CPU device and PyTorch's oneDNN int8 operators (x86); "
                f"device {device!r}, operators {'present' if int8_route_available() else 'absent'}: use route='float32'"
            )
        if route == "auto":
            route = "int8-limbs" if on_cpu and int8_route_available() else "float32"
        self.route = route
        self._weights = Path(weights)
        self._trunk = Path(trunk) if trunk is not None else None
        sha = sha256_file(self._weights)
        if self._trunk is not None:  # both files determine the values: hash them together
            sha = f"{sha}+{sha256_file(self._trunk)}"
        super().__init__(
            protocol.bind_weights("lpips-alex", sha),
            device=device,
            frame_batch=frame_batch,
            truncate_frames=truncate_frames,
        )

    def _build(self) -> torch.nn.Module:
        scorer = build_lpips(device=str(self.device))
        load_lpips_weights(scorer.net, self._weights, trunk=self._trunk)
        self._int8 = Int8LpipsNet(scorer.net) if self.route == "int8-limbs" else None
        return scorer

    def pyiqa_metric(self) -> torch.nn.Module:
        return self.scorer

    def extras(self) -> dict[str, Any]:
        # the values of both routes agree within about 1e-5 relative; the row says which one computed them
        return super().extras() | {"lpips_route": self.route}

    @torch.inference_mode()
    def compute_frames(self, pred: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """pyiqa's LPIPS network on both videos' frames: on int8 limbs, or in float32 in channels-last layout."""
        if self._int8 is not None:  # one pair at a time (see lpips_int8): no frame batches
            pairs = (torch.from_numpy(np.ascontiguousarray(v)) for v in (pred, ref))
            return self._int8.distance(*pairs).double().numpy()
        net = self.scorer.net
        net.net.to(memory_format=torch.channels_last)
        out = []
        for i in range(0, pred.shape[0], self.frame_batch):
            p, r = (
                torch.from_numpy(np.ascontiguousarray(v[i : i + self.frame_batch]))
                .to(self.device)
                .permute(0, 3, 1, 2)
                .float()
                .div(255.0)
                .contiguous(memory_format=torch.channels_last)
                for v in (pred, ref)
            )
            out.append(net(p, r, normalize=True).reshape(-1).double().cpu().numpy())
        return np.concatenate(out)


def lpips(
    preds: np.ndarray | Sequence[np.ndarray],
    refs: np.ndarray | Sequence[np.ndarray],
    *,
    weights: str | Path,
    trunk: str | Path | None = None,
    protocol: Protocol | None = None,
    keys: Sequence[str] | None = None,
    device: str = "cpu",
    truncate_frames: bool = False,
    route: str = "auto",
) -> float:
    """LPIPS (v0.1, AlexNet, weights from the local file `weights`, see `LPIPS`) of generated uint8 videos against
    their references, averaged as `psnr`."""
    protocol = protocol or get_protocol("bd16")
    metric = LPIPS(protocol, weights=weights, trunk=trunk, device=device, truncate_frames=truncate_frames, route=route)
    return mean_over_pairs(metric, preds, refs, keys)
