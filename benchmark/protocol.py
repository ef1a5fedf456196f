"""Named evaluation protocols.

A number means something only together with how it was made: frames per clip, which frames, resolution and resize,
the feature network and the exact weights file, how many videos. A `Protocol` holds those choices under a name; the
name and the parts of the protocol that determine a metric (its *view*) go into every statistics file and every result
row, and statistics whose views differ are refused (`ProtocolMismatchError`) instead of being compared. Each metric
declares its view (`benchmark.metrics.base.Metric.protocol_view`); the protocol gives the part that is the same for
every metric (`Protocol.base_view`).

Weights are bound at run time: a protocol names the network, `bind_weights` records the sha256 of the local file that
was actually used, so two runs with different weights files never share a view even under the same protocol name.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from curation.hashing import file_sha256 as sha256_file  # one hashing routine for every file
from curation.weights import REGISTRY, WeightFile

__all__ = [
    "CLIP_SAMPLINGS",
    "METRIC_NETWORK",
    "NETWORKS",
    "PROTOCOLS",
    "WEIGHTS_FREE_METRICS",
    "NetworkSpec",
    "Protocol",
    "ProtocolMismatchError",
    "get_protocol",
    "require_same_view",
    "sha256_file",
]

CLIP_SAMPLINGS = ("first", "uniform", "center")
#: The metrics that need no weights file: PSNR, SSIM and the background-motion suite.
WEIGHTS_FREE_METRICS = (
    "psnr", "ssim", "bg-track", "bg-camera", "bg-camera-translation", "bg-camera-rotation", "bg-camera-scale",
    "bg-camera-label", "bg-epipolar", "bg-dynamics", "bg-first-frame",
)  # fmt: skip


class ProtocolMismatchError(ValueError):
    """Raised when statistics or results made under different protocols (or different weights) meet."""


@dataclass(frozen=True)
class NetworkSpec:
    """A feature network as a protocol sees it: what goes in and what comes out, not how it is built.

    `name` is the network's weights entry in the registry (`curation.weights`): the one name of the network in
    protocols, `backdrop score --weights NAME=PATH`, `backdrop weights` and errors. The weights file, its URL and
    licence are the registry entry's (`spec.weights`).
    """

    name: str
    # The network's name inside protocol views, as written into every statistics file and result row so far; the
    # views stay byte-identical, so statistics made before the registry names were adopted are still accepted.
    view_name: str
    resolution: int  # square input side in pixels
    resize: str  # how frames reach `resolution`
    value_range: str  # what the network receives
    feature_dim: int

    def __post_init__(self) -> None:
        if self.name not in REGISTRY:
            raise ValueError(f"network {self.name!r} is not a weights registry name; known: {sorted(REGISTRY)}")

    @property
    def weights(self) -> WeightFile:
        return REGISTRY[self.name]

    def as_dict(self) -> dict[str, Any]:
        fields = dataclasses.asdict(self)
        del fields["view_name"]
        return {**fields, "name": self.view_name}


_STRETCH = "bilinear stretch (F.interpolate, align_corners=False), aspect ratio not kept"

NETWORKS: dict[str, NetworkSpec] = {
    spec.name: spec
    for spec in (
        NetworkSpec("fvd-i3d-400", "i3d-400", 224, _STRETCH, "[-1, 1]", 400),
        NetworkSpec("fvd-i3d-torchscript", "i3d-torchscript", 224, _STRETCH, "[-1, 1]", 400),
        NetworkSpec("cdfvd-videomae-v2-g", "videomae-v2-g", 224, _STRETCH, "[0, 1]", 1408),
        NetworkSpec(
            "fid-inception",
            "inception-fid",
            299,
            "bilinear stretch (F.interpolate, align_corners=False), as pytorch-fid",
            "[-1, 1]",
            2048,
        ),
        NetworkSpec(
            "fidvid-r3d50",
            "r3d50-kinetics",
            112,
            "PIL bicubic stretch per frame and channel in float (mode F), not rounded or clipped (DisCo), aspect ratio "
            "not kept",
            "0-255 minus the Kinetics mean (114.7748, 107.7354, 99.4750)",
            2048,
        ),
        NetworkSpec("lpips-alex", "lpips-alex", 0, "none (frames at the protocol's pixel resolution)", "[-1, 1]", 0),
    )
}

# Which network each feature metric uses by default; a protocol may override it (e.g. StyleGAN-V's TorchScript I3D).
METRIC_NETWORK: dict[str, str] = {
    "fvd": "fvd-i3d-400",
    "cd-fvd": "cdfvd-videomae-v2-g",
    "fid": "fid-inception",
    "fid-vid": "fidvid-r3d50",
    "lpips": "lpips-alex",
}


@dataclass(frozen=True)
class Protocol:
    """The choices behind a number. Frozen: change one with `dataclasses.replace`, which should get a new name."""

    name: str
    frames: int = 16  # frames per clip for FVD/cd-FVD; segment length for FID-VID
    clip_sampling: str = "first"  # which `frames` frames of a longer video form the clip (see video.sample_clip)
    fid_frames: int | None = None  # frames per video for FID, evenly spaced; None: every frame
    num_videos: int | None = None  # None: every matched video (the count is recorded); N: exactly the first N keys
    pixel_resolution: int | None = None  # None: compare at the native size (pred and ref must match)
    networks: Mapping[str, str] = field(default_factory=lambda: dict(METRIC_NETWORK))
    # What a benchmark under this protocol scores (`bench run`): metric names; None: every metric. Not part of any
    # metric's view (a metric's value does not depend on which other metrics are scored beside it).
    metrics: tuple[str, ...] | None = None
    weights_sha256: Mapping[str, str] = field(default_factory=dict)  # network name -> sha256, set by bind_weights

    def __post_init__(self) -> None:
        if not self.name or any(c in self.name for c in " /\\.\n"):
            raise ValueError(f"protocol name {self.name!r} must be non-empty, without spaces, slashes or dots")
        if self.frames < 1:
            raise ValueError(f"protocol {self.name}: frames must be >= 1, got {self.frames}")
        if self.clip_sampling not in CLIP_SAMPLINGS:
            raise ValueError(
                f"protocol {self.name}: clip_sampling must be one of {CLIP_SAMPLINGS}, got {self.clip_sampling!r}"
            )
        if self.fid_frames is not None and self.fid_frames < 1:
            raise ValueError(f"protocol {self.name}: fid_frames must be >= 1 or None, got {self.fid_frames}")
        if self.num_videos is not None and self.num_videos < 2:
            raise ValueError(f"protocol {self.name}: num_videos must be >= 2 or None, got {self.num_videos}")
        if self.pixel_resolution is not None and self.pixel_resolution < 8:
            raise ValueError(f"protocol {self.name}: pixel_resolution must be >= 8 or None")
        if self.metrics is not None:
            from benchmark.metrics import ALL_METRICS  # names only

            unknown = [m for m in self.metrics if m not in ALL_METRICS]
            if unknown or not self.metrics:
                raise ValueError(
                    f"protocol {self.name}: unknown or no metrics {unknown}; known: {', '.join(ALL_METRICS)}"
                )
        for metric, net in self.networks.items():
            if net not in NETWORKS:
                raise ValueError(
                    f"protocol {self.name}: unknown network {net!r} for {metric}; known: {sorted(NETWORKS)}"
                )

    @property
    def scored_metrics(self) -> tuple[str, ...]:
        """The metrics a benchmark under this protocol scores (every metric when `metrics` is None)."""
        from benchmark.metrics import ALL_METRICS

        return tuple(self.metrics) if self.metrics is not None else ALL_METRICS

    def needs_weights(self) -> bool:
        """Whether any metric scored under this protocol runs a feature network (weights files)."""
        return any(m in self.networks for m in self.scored_metrics)

    def network(self, metric: str) -> NetworkSpec:
        if metric not in self.networks:
            raise KeyError(f"protocol {self.name} has no feature network for metric {metric!r}")
        return NETWORKS[self.networks[metric]]

    def bind_weights(self, network: str, sha256: str) -> Protocol:
        """The same protocol with the sha256 of the weights file actually loaded for `network` recorded."""
        return dataclasses.replace(self, weights_sha256={**self.weights_sha256, network: sha256})

    def base_view(self, metric: str) -> dict[str, Any]:
        """The protocol-wide part of `metric`'s view: this protocol's name, the metric, the number of videos and, for a
        metric with a feature network here, the network as the protocol sees it and the sha256 of its bound weights.
        Each metric adds the protocol fields it reads (`benchmark.metrics.base.Metric.protocol_view`)."""
        out: dict[str, Any] = {"protocol": self.name, "metric": metric, "num_videos": self.num_videos}
        if metric in self.networks:
            spec = self.network(metric)
            out["network"] = spec.as_dict()
            out["weights_sha256"] = self.weights_sha256.get(spec.name)
        return out


PROTOCOLS: dict[str, Protocol] = {
    p.name: p
    for p in (
        # The default: the first 16 frames of every clip for the video metrics, every frame for FID.
        Protocol("bd16"),
        # 16 frames spread evenly over the whole clip (a temporally subsampled view of long clips).
        Protocol("bd16-uniform", clip_sampling="uniform"),
        # As bd16, with StyleGAN-V's TorchScript I3D for FVD (numbers comparable with StyleGAN-V-style reports).
        Protocol("bd16-stylegan-v", networks={**METRIC_NETWORK, "fvd": "fvd-i3d-torchscript"}),
        # A fixed pixel resolution: pixel metrics and the background suite compare frames resized to SxS, so videos
        # of another size than their references (a model's 128 px output against 256 px clips) are comparable.
        Protocol("bd16-px256", pixel_resolution=256),
        Protocol("bd16-px128", pixel_resolution=128),
        # The weights-free protocol (PSNR, SSIM, the background suite at 128 px): the demo's, and any machine's
        # without feature-network weights.
        Protocol("bd16-px128-free", pixel_resolution=128, metrics=WEIGHTS_FREE_METRICS),
    )
}


def get_protocol(name: str, *, pixel_resolution: int | None = None) -> Protocol:
    """A built-in protocol by name (see docs/metrics.md); with `pixel_resolution` S, the same protocol at a fixed
    pixel resolution, named `NAME-pxS` (a new name: its numbers are not those of NAME)."""
    if name not in PROTOCOLS:
        raise KeyError(f"unknown protocol {name!r}; built-in protocols: {', '.join(sorted(PROTOCOLS))}")
    protocol = PROTOCOLS[name]
    if pixel_resolution is None or pixel_resolution == protocol.pixel_resolution:
        return protocol
    old = f"-px{protocol.pixel_resolution}"
    if protocol.pixel_resolution is not None and old in name:
        new_name = name.replace(old, f"-px{pixel_resolution}", 1)
    else:
        new_name = f"{name}-px{pixel_resolution}"
    return dataclasses.replace(protocol, name=new_name, pixel_resolution=pixel_resolution)


def require_same_view(found: str, expected: str, *, what: str) -> None:
    """Refuse to combine two things whose protocol views (a metric's `view_json`) differ, naming the fields."""
    if found == expected:
        return
    a, b = json.loads(found), json.loads(expected)
    diffs = [f"{k}: {a.get(k)!r} != {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    raise ProtocolMismatchError(
        f"{what} was made under a different protocol; refusing to mix them ({'; '.join(diffs)})"
    )
