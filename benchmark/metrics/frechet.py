"""FVD, content-debiased FVD, FID and FID-VID on the metric contract (`benchmark.metrics.base`).

State: n, Σx and Σxxᵀ in float64 for the real side (`real_*`, from reference videos) and the fake side (`fake_*`,
from generated videos); `compute()` is the Fréchet distance between the two Gaussians. The real side may instead be
fixed to stored statistics (`reference=` or `use_reference`, e.g. from `benchmark.stats.load_stats`): then reference
videos in later samples are not added, and the state holds only the fake side. A sample may carry a generated video,
a reference video or both, so unpaired sets of different sizes work too. The metric's view (with the sha256 of the
weights actually loaded) tags both sides, so reference statistics from another protocol are refused.

What a video contributes:
- FVD (I3D) and cd-FVD (VideoMAE-v2): one row per video, from one clip of `protocol.frames` frames chosen by
  `protocol.clip_sampling`;
- FID (Inception pool3): one row per sampled frame (`protocol.fid_frames`, default every frame);
- FID-VID (3D ResNet-50, DisCo): one row per video, the mean over its consecutive 16-frame segments.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np

from benchmark.features.base import FeatureNet
from benchmark.metrics.base import Metric, Sample, check_protocol
from benchmark.metrics.frechet_distance import frechet_distance
from benchmark.protocol import Protocol, get_protocol, require_same_view
from benchmark.stats import FeatureStats, feature_sums
from benchmark.video import VideoError, sample_clip, sample_frames

__all__ = [
    "FID",
    "FIDVID",
    "FRECHET_CLASSES",
    "FVD",
    "ContentDebiasedFVD",
    "FrechetMetric",
    "content_debiased_fvd",
    "fid",
    "fid_vid",
    "fvd",
]

SIDES = ("real", "fake")


class FrechetMetric(Metric):
    """Summable real/fake statistics under one protocol view, the Fréchet distance on compute()."""

    higher_is_better = False
    unit = "squared feature distance"
    requires = ()  # a generated video, a reference video, or both
    has_per_video = False  # a distance between sets has no per-video value
    record_tables = ("videos",)  # key -> what the sample added: "pred", "ref" or "pred+ref"

    def __init__(self, net: FeatureNet, protocol: Protocol, *, reference: FeatureStats | None = None) -> None:
        protocol = check_protocol(protocol, self.name)
        self.check_protocol_fields(protocol)
        if not isinstance(net, FeatureNet):
            raise TypeError(f"{self.name}: net must be a FeatureNet, got {type(net).__name__}")
        expected = protocol.networks.get(self.name)
        if expected != net.network:
            raise ValueError(f"protocol {protocol.name} uses {expected!r} for {self.name}, got a {net.network!r} net")
        self.net = net
        self.dim = net.feature_dim
        self.reference: FeatureStats | None = None
        super().__init__(protocol.bind_weights(net.network, net.sha256))
        if reference is not None:
            self.use_reference(reference)

    @classmethod
    def check_protocol_fields(cls, protocol: Protocol) -> None:
        """Refuse a protocol under which this metric is not defined (before anything is built)."""

    @abstractmethod
    def video_features(self, video: np.ndarray) -> np.ndarray:
        """Feature rows [k, D] contributed by one uint8 video [T, H, W, 3]."""

    def initial_state(self) -> dict[str, np.ndarray]:
        sides = ("fake",) if self.reference is not None else SIDES
        state: dict[str, np.ndarray] = {}
        for side in sides:
            state[f"{side}_n"] = np.array(0.0)
            state[f"{side}_sum"] = np.zeros(self.dim, dtype=np.float64)
            state[f"{side}_outer"] = np.zeros((self.dim, self.dim), dtype=np.float64)
        return state

    def use_reference(self, stats: FeatureStats) -> None:
        """Fix the real side to `stats` (made under this metric's view); reference videos are no longer added."""
        require_same_view(stats.view, self.view, what=f"reference statistics for {self.name}")
        if stats.dim != self.dim:
            raise ValueError(f"{self.name}: reference statistics of dimension {stats.dim}, the net gives {self.dim}")
        if self.state.get("real_n", 0) > 0:
            raise ValueError(f"{self.name}: reference videos were already added; fix the reference before updating")
        self.reference = stats.copy()
        for part in ("n", "sum", "outer"):
            self.state.pop(f"real_{part}", None)

    def _features(self, sample: Sample, what: str) -> np.ndarray:
        try:
            return self.video_features(getattr(sample, what))
        except VideoError as exc:
            raise VideoError(f"{sample.name(what)}: {exc}") from exc

    def update(self, sample: Sample) -> None:
        """Add the sample's generated video to the fake side and its reference video to the real side (unless the
        real side is fixed to reference statistics)."""
        self.check_sample(sample)
        if sample.pred is None and sample.ref is None:
            raise ValueError(f"{self.name}: sample {sample.key!r} has neither a generated nor a reference video")
        rows = {"pred": self._features(sample, "pred")} if sample.pred is not None else {}
        if sample.ref is not None and self.reference is None:
            rows["ref"] = self._features(sample, "ref")
        for what, features in rows.items():
            self.update_features(features, real=what == "ref")
        if rows:
            self.records["videos"][sample.key] = "+".join(rows)

    def update_features(self, features: np.ndarray, *, real: bool) -> None:
        """Add precomputed feature rows [B, D] (from this metric's `video_features`) to one side."""
        if real and self.reference is not None:
            raise ValueError(f"{self.name}: the real side is fixed to reference statistics")
        side = "real" if real else "fake"
        n, total, outer = feature_sums(features, self.dim)
        self.state[f"{side}_n"] = self.state[f"{side}_n"] + n
        self.state[f"{side}_sum"] += total
        self.state[f"{side}_outer"] += outer

    def _side(self, side: str, *, copy: bool = True) -> FeatureStats:
        if side == "real" and self.reference is not None:
            return self.reference.copy() if copy else self.reference
        total, outer = self.state[f"{side}_sum"], self.state[f"{side}_outer"]
        if copy:
            total, outer = total.copy(), outer.copy()
        return FeatureStats(self.dim, self.view, int(self.state[f"{side}_n"]), total, outer)

    @property
    def real(self) -> FeatureStats:
        """The real side's statistics (a copy): the fixed reference, or what reference videos added."""
        return self._side("real")

    @property
    def fake(self) -> FeatureStats:
        """The fake side's statistics (a copy)."""
        return self._side("fake")

    def check_mergeable(self, other: Metric) -> None:
        mine, theirs = self.reference, getattr(other, "reference", None)
        same = (mine is None and theirs is None) or (
            mine is not None
            and theirs is not None
            and mine.n == theirs.n
            and np.array_equal(mine.total, theirs.total)
            and np.array_equal(mine.outer, theirs.outer)
        )
        if not same:
            raise ValueError(f"{self.name}: cannot merge states with different fixed reference statistics")

    def reset(self, *, keep_real: bool = False) -> None:
        """Back to the empty state; with `keep_real`, the real side (sums or fixed reference) is kept."""
        kept = {k: v for k, v in self.state.items() if k.startswith("real_")} if keep_real else {}
        if not keep_real:
            self.reference = None
        super().reset()
        self.state.update(kept)

    def num_videos(self) -> int:
        """Generated videos added."""
        return sum("pred" in sides for sides in self.records["videos"].values())

    def compute(self) -> float:
        real, fake = self._side("real", copy=False), self._side("fake", copy=False)
        for which, stats in (("real", real), ("fake", fake)):
            if stats.n < 2:
                raise ValueError(f"{self.name}: {which} statistics need at least 2 feature rows, have {stats.n}")
        return frechet_distance(real.mean(), real.covariance(), fake.mean(), fake.covariance())

    def extras(self) -> dict[str, Any]:
        return {"num_feature_rows": int(self.state["fake_n"]), "num_reference_rows": self._side("real", copy=False).n}


class FVD(FrechetMetric):
    """Fréchet Video Distance on I3D logits (400-d), one clip per video."""

    name = "fvd"

    @classmethod
    def protocol_view(cls, protocol: Protocol) -> dict[str, Any]:
        return super().protocol_view(protocol) | {"frames": protocol.frames, "clip_sampling": protocol.clip_sampling}

    def video_features(self, video: np.ndarray) -> np.ndarray:
        clip = sample_clip(video, self.protocol.frames, self.protocol.clip_sampling)
        return self.net.features(clip[None])


class ContentDebiasedFVD(FVD):
    """Content-debiased FVD (Ge et al., CVPR 2024): the same clips through VideoMAE-v2 (1408-d)."""

    name = "cd-fvd"

    @classmethod
    def check_protocol_fields(cls, protocol: Protocol) -> None:
        if protocol.frames % 2:
            raise ValueError(f"cd-fvd needs an even number of frames (tubelets of 2), protocol has {protocol.frames}")


class FID(FrechetMetric):
    """Fréchet Inception Distance on pool3 features (2048-d) of frames sampled from every video."""

    name = "fid"

    @classmethod
    def protocol_view(cls, protocol: Protocol) -> dict[str, Any]:
        return super().protocol_view(protocol) | {"fid_frames": protocol.fid_frames}

    def video_features(self, video: np.ndarray) -> np.ndarray:
        return self.net.features(sample_frames(video, self.protocol.fid_frames))


class FIDVID(FrechetMetric):
    """DisCo's FID-VID: 3D ResNet-50 features (2048-d) of 16-frame segments, averaged per video."""

    name = "fid-vid"

    @classmethod
    def check_protocol_fields(cls, protocol: Protocol) -> None:
        if protocol.frames != 16:
            raise ValueError(f"fid-vid is defined on 16-frame segments, protocol {protocol.name} has {protocol.frames}")

    @classmethod
    def protocol_view(cls, protocol: Protocol) -> dict[str, Any]:
        segments = "consecutive, last one padded with its last frame"
        return super().protocol_view(protocol) | {"segment_frames": protocol.frames, "segments": segments}

    def video_features(self, video: np.ndarray) -> np.ndarray:
        return self.net.features(video[None])


FRECHET_CLASSES: dict[str, type[FrechetMetric]] = {cls.name: cls for cls in (FVD, ContentDebiasedFVD, FID, FIDVID)}


def _one_call(
    cls: type[FrechetMetric],
    real: Sequence[np.ndarray],
    fake: Sequence[np.ndarray],
    net: FeatureNet,
    protocol: Protocol | None,
) -> float:
    metric = cls(net, protocol if protocol is not None else get_protocol("bd16"))
    for i, video in enumerate(real):
        metric.update(Sample(f"real{i}", ref=video))
    for i, video in enumerate(fake):
        metric.update(Sample(f"fake{i}", pred=video))
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
