"""FVD, content-debiased FVD, FID and FID-VID as metrics in the torchmetrics shape.

Each metric keeps two `FeatureStats` (real and fake: n, Σx, Σxxᵀ in float64), `update()` adds videos (or feature rows)
to one of them, `merge()` adds another metric's state, `compute()` returns the Fréchet distance between the two
Gaussians. A stateless function per metric does the same in one call. The metric's protocol view (with the sha256 of
the weights actually loaded) tags both statistics, so reference statistics from another protocol are refused.

What a video contributes:
- FVD (I3D) and cd-FVD (VideoMAE-v2): one row per video, from one clip of `protocol.frames` frames chosen by
  `protocol.clip_sampling`;
- FID (Inception pool3): one row per sampled frame (`protocol.fid_frames`, default every frame);
- FID-VID (3D ResNet-50, DisCo): one row per video, the mean over its consecutive 16-frame segments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

import numpy as np

from benchmark.features.base import FeatureNet
from benchmark.metrics.frechet_distance import frechet_distance
from benchmark.protocol import Protocol, get_protocol, require_same_view
from benchmark.stats import FeatureStats
from benchmark.video import sample_clip, sample_frames

__all__ = [
    "FID",
    "FIDVID",
    "FVD",
    "ContentDebiasedFVD",
    "FrechetMetric",
    "content_debiased_fvd",
    "fid",
    "fid_vid",
    "fvd",
]


class FrechetMetric:
    """Base class: summable real/fake statistics under one protocol view, Fréchet distance on compute()."""

    name: ClassVar[str]
    higher_is_better: ClassVar[bool] = False

    def __init__(self, net: FeatureNet, protocol: Protocol, *, reference: FeatureStats | None = None) -> None:
        if not isinstance(net, FeatureNet):
            raise TypeError(f"{self.name}: net must be a FeatureNet, got {type(net).__name__}")
        if not isinstance(protocol, Protocol):
            raise TypeError(f"{self.name}: protocol must be a Protocol, got {type(protocol).__name__}")
        expected = protocol.networks.get(self.name)
        if expected != net.network:
            raise ValueError(f"protocol {protocol.name} uses {expected!r} for {self.name}, got a {net.network!r} net")
        self.net = net
        self.protocol = protocol.bind_weights(net.network, net.sha256)
        self.view = self.protocol.view_json(self.name)
        dim = net.feature_dim
        self.real = FeatureStats(dim, self.view)
        self.fake = FeatureStats(dim, self.view)
        if reference is not None:
            require_same_view(reference.view, self.view, what=f"reference statistics for {self.name}")
            self.real = reference.copy()

    def video_features(self, video: np.ndarray) -> np.ndarray:
        """Feature rows [k, D] contributed by one uint8 video [T, H, W, 3]."""
        raise NotImplementedError

    def update(self, videos: Iterable[np.ndarray], *, real: bool) -> None:
        """Add videos (each uint8 [T, H, W, 3]) to the real or the fake statistics."""
        for video in videos:
            self.update_features(self.video_features(video), real=real)

    def update_features(self, features: np.ndarray, *, real: bool) -> None:
        """Add precomputed feature rows [B, D] (from this metric's `video_features`)."""
        (self.real if real else self.fake).update(features)

    def merge(self, other: FrechetMetric) -> None:
        """Add another instance's state (e.g. from another worker) into this one."""
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        self.real.merge(other.real)
        self.fake.merge(other.fake)

    def reset(self, *, keep_real: bool = False) -> None:
        if not keep_real:
            self.real = FeatureStats(self.real.dim, self.view)
        self.fake = FeatureStats(self.fake.dim, self.view)

    def compute(self) -> float:
        for which, stats in (("real", self.real), ("fake", self.fake)):
            if stats.n < 2:
                raise ValueError(f"{self.name}: {which} statistics need at least 2 feature rows, have {stats.n}")
        return frechet_distance(self.real.mean(), self.real.covariance(), self.fake.mean(), self.fake.covariance())


class FVD(FrechetMetric):
    """Fréchet Video Distance on I3D logits (400-d), one clip per video."""

    name = "fvd"

    def video_features(self, video: np.ndarray) -> np.ndarray:
        clip = sample_clip(video, self.protocol.frames, self.protocol.clip_sampling)
        return self.net.features(clip[None])


class ContentDebiasedFVD(FVD):
    """Content-debiased FVD (Ge et al., CVPR 2024): the same clips through VideoMAE-v2 (1408-d)."""

    name = "cd-fvd"

    def __init__(self, net: FeatureNet, protocol: Protocol, *, reference: FeatureStats | None = None) -> None:
        if protocol.frames % 2:
            raise ValueError(f"cd-fvd needs an even number of frames (tubelets of 2), protocol has {protocol.frames}")
        super().__init__(net, protocol, reference=reference)


class FID(FrechetMetric):
    """Fréchet Inception Distance on pool3 features (2048-d) of frames sampled from every video."""

    name = "fid"

    def video_features(self, video: np.ndarray) -> np.ndarray:
        return self.net.features(sample_frames(video, self.protocol.fid_frames))


class FIDVID(FrechetMetric):
    """DisCo's FID-VID: 3D ResNet-50 features (2048-d) of 16-frame segments, averaged per video."""

    name = "fid-vid"

    def __init__(self, net: FeatureNet, protocol: Protocol, *, reference: FeatureStats | None = None) -> None:
        if protocol.frames != 16:
            raise ValueError(f"fid-vid is defined on 16-frame segments, protocol {protocol.name} has {protocol.frames}")
        super().__init__(net, protocol, reference=reference)

    def video_features(self, video: np.ndarray) -> np.ndarray:
        return self.net.features(video[None])


def _one_call(
    cls: type[FrechetMetric],
    real: Sequence[np.ndarray],
    fake: Sequence[np.ndarray],
    net: FeatureNet,
    protocol: Protocol | None,
) -> float:
    metric = cls(net, protocol if protocol is not None else get_protocol("bd16"))
    metric.update(real, real=True)
    metric.update(fake, real=False)
    return metric.compute()


def fvd(
    real: Sequence[np.ndarray], fake: Sequence[np.ndarray], net: FeatureNet, protocol: Protocol | None = None
) -> float:
    """FVD between two lists of uint8 videos [T, H, W, 3] (protocol bd16 unless given)."""
    return _one_call(FVD, real, fake, net, protocol)


def content_debiased_fvd(
    real: Sequence[np.ndarray], fake: Sequence[np.ndarray], net: FeatureNet, protocol: Protocol | None = None
) -> float:
    """cd-FVD between two lists of uint8 videos (protocol bd16 unless given)."""
    return _one_call(ContentDebiasedFVD, real, fake, net, protocol)


def fid(
    real: Sequence[np.ndarray], fake: Sequence[np.ndarray], net: FeatureNet, protocol: Protocol | None = None
) -> float:
    """FID between the frames of two lists of uint8 videos (protocol bd16 unless given)."""
    return _one_call(FID, real, fake, net, protocol)


def fid_vid(
    real: Sequence[np.ndarray], fake: Sequence[np.ndarray], net: FeatureNet, protocol: Protocol | None = None
) -> float:
    """DisCo's FID-VID between two lists of uint8 videos (protocol bd16 unless given)."""
    return _one_call(FIDVID, real, fake, net, protocol)
