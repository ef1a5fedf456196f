"""The background-motion suite as metrics: summable float64 state, per-video values, `higher_is_better`.

Each generated video is analysed once (`benchmark.metrics.background.analysis.analyse_background`: the ground truth's
background points tracked through it, its camera estimated) and every metric takes its value from that analysis.
A metric's state is the sum of its per-video values and their count (plus, for some, a few summable counters), so
merging the states of two halves gives the state of the whole; the reported value is the mean over videos, as for the
pixel metrics. Definitions: docs/metrics.md, "Background-motion suite".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, cast

import numpy as np

from benchmark.metrics.background.analysis import SuiteConfig, VideoBackground, analyse_background
from benchmark.metrics.background.truth import BackgroundTruth
from benchmark.protocol import BACKGROUND_METRICS, Protocol, get_protocol, require_same_view
from benchmark.video import resize_video

__all__ = [
    "BackgroundMetric",
    "BackgroundSuite",
    "background_suite",
]


class BackgroundMetric:
    """Mean over videos of one per-video measure of the analysis (the attribute `field`)."""

    name: ClassVar[str]
    higher_is_better: ClassVar[bool | None]  # None: neither; the ideal is a target value (`bg-dynamics`: 1)
    unit: ClassVar[str]
    field: ClassVar[str]

    def __init__(self, protocol: Protocol, config: SuiteConfig | None = None) -> None:
        if not isinstance(protocol, Protocol):
            raise TypeError(f"{self.name}: protocol must be a Protocol, got {type(protocol).__name__}")
        self.protocol = protocol
        self.config = config or SuiteConfig()
        view = protocol.view(self.name) | {"suite": self.config.as_dict()}
        self.view = json.dumps(view, sort_keys=True, separators=(",", ":"))
        self.total = np.float64(0.0)
        self.n = 0
        self.per_video: dict[str, float] = {}

    def value(self, analysis: VideoBackground) -> float | None:
        return getattr(analysis, self.field)

    def update(self, analysis: VideoBackground, *, key: str) -> float | None:
        """Add one video's value (None: the video does not count for this metric)."""
        if key in self.per_video or key in self._skipped():
            raise ValueError(f"{self.name}: video {key!r} was already scored")
        value = self.value(analysis)
        if value is None:
            self._skip(key, analysis)
            return None
        if not np.isfinite(value):
            raise ValueError(f"{self.name}: non-finite value for video {key!r}")
        self.per_video[key] = float(value)
        self.total += np.float64(value)
        self.n += 1
        self._count(analysis)
        return float(value)

    def merge(self, other: BackgroundMetric) -> None:
        if type(other) is not type(self):
            raise TypeError(f"cannot merge {type(other).__name__} into {type(self).__name__}")
        require_same_view(other.view, self.view, what=f"{self.name} state being merged")
        overlap = (set(self.per_video) | set(self._skipped())) & (set(other.per_video) | set(other._skipped()))
        if overlap:
            raise ValueError(f"{self.name}: both states scored {sorted(overlap)[:5]}")
        self.per_video.update(other.per_video)
        self.total += other.total
        self.n += other.n
        self._merge_extra(other)

    def compute(self) -> float:
        if self.n == 0:
            raise ValueError(f"{self.name}: no videos scored")
        return float(self.total / self.n)

    def extra(self) -> dict[str, Any]:
        """Fields this metric adds to its result row."""
        return {}

    # Hooks for metrics with more state than (sum, count).
    def _skipped(self) -> Sequence[str]:
        return ()

    def _skip(self, key: str, analysis: VideoBackground) -> None:
        raise ValueError(f"{self.name}: no value for video {key!r}")

    def _count(self, analysis: VideoBackground) -> None:
        pass

    def _merge_extra(self, other: BackgroundMetric) -> None:
        pass


class TrackError(BackgroundMetric):
    name, higher_is_better, unit, field = "bg-track", False, "px", "track_epe"


class CameraError(BackgroundMetric):
    name, higher_is_better, unit, field = "bg-camera", False, "px", "camera_corner"


class CameraTranslationError(BackgroundMetric):
    name, higher_is_better, unit, field = "bg-camera-translation", False, "px", "camera_translation"


class CameraRotationError(BackgroundMetric):
    name, higher_is_better, unit, field = "bg-camera-rotation", False, "deg", "camera_rotation"


class CameraScaleError(BackgroundMetric):
    name, higher_is_better, unit, field = "bg-camera-scale", False, "%", "camera_scale"


class CameraLabelAgreement(BackgroundMetric):
    name, higher_is_better, unit, field = "bg-camera-label", True, "fraction", "label_agreement"

    def __init__(self, protocol: Protocol, config: SuiteConfig | None = None) -> None:
        super().__init__(protocol, config)
        self.labels: dict[str, list[str]] = {}  # key -> [estimated, ground truth]

    def update(self, analysis: VideoBackground, *, key: str) -> float | None:
        value = super().update(analysis, key=key)
        self.labels[key] = [analysis.predicted_label, analysis.reference_label]
        return value

    def _merge_extra(self, other: BackgroundMetric) -> None:
        self.labels.update(cast(CameraLabelAgreement, other).labels)  # merge() checked the type

    def extra(self) -> dict[str, Any]:
        return {"labels": dict(self.labels)}


class EpipolarError(BackgroundMetric):
    name, higher_is_better, unit, field = "bg-epipolar", False, "px", "epipolar"

    def __init__(self, protocol: Protocol, config: SuiteConfig | None = None) -> None:
        super().__init__(protocol, config)
        self.frames = 0
        self.fallback_frames = 0

    def _count(self, analysis: VideoBackground) -> None:
        self.frames += analysis.epipolar_frames
        self.fallback_frames += analysis.epipolar_fallback_frames

    def _merge_extra(self, other: BackgroundMetric) -> None:
        other = cast(EpipolarError, other)  # merge() checked the type
        self.frames += other.frames
        self.fallback_frames += other.fallback_frames

    def extra(self) -> dict[str, Any]:
        fraction = self.fallback_frames / self.frames if self.frames else None
        route = "sampson" if not self.fallback_frames else "homography transfer" if fraction == 1 else "mixed"
        return {
            "epipolar_frames": self.frames,
            "epipolar_fallback_frames": self.fallback_frames,
            "epipolar_fallback_fraction": fraction,
            "epipolar_route": route,
        }


class DynamicsRatio(BackgroundMetric):
    name, higher_is_better, unit, field = "bg-dynamics", None, "ratio (1 = as much motion as the truth)", "dynamics"

    def __init__(self, protocol: Protocol, config: SuiteConfig | None = None) -> None:
        super().__init__(protocol, config)
        self.static_reference: dict[str, float] = {}  # videos left out: key -> the generated median displacement

    def _skipped(self) -> Sequence[str]:
        return tuple(self.static_reference)

    def _skip(self, key: str, analysis: VideoBackground) -> None:
        self.static_reference[key] = analysis.motion_predicted

    def _merge_extra(self, other: BackgroundMetric) -> None:
        self.static_reference.update(cast(DynamicsRatio, other).static_reference)  # merge() checked the type

    def compute(self) -> float:
        if self.n == 0:  # only static ground truths: the ratio is undefined, not an error of the run
            return float("nan")
        return super().compute()

    def extra(self) -> dict[str, Any]:
        return {"static_reference_videos": dict(self.static_reference)}


METRIC_CLASSES: dict[str, type[BackgroundMetric]] = {
    cls.name: cls
    for cls in (
        TrackError,
        CameraError,
        CameraTranslationError,
        CameraRotationError,
        CameraScaleError,
        CameraLabelAgreement,
        EpipolarError,
        DynamicsRatio,
    )
}


class BackgroundSuite:
    """The suite's metrics fed from one analysis per video; `update()` resizes to the protocol's resolution."""

    def __init__(
        self, protocol: Protocol, metrics: Sequence[str] = BACKGROUND_METRICS, config: SuiteConfig | None = None
    ) -> None:
        unknown = [m for m in metrics if m not in METRIC_CLASSES]
        if unknown or not metrics:
            raise ValueError(f"unknown or no background metrics {unknown}; choose from {', '.join(METRIC_CLASSES)}")
        self.protocol = protocol
        self.config = config or SuiteConfig()
        self.metrics = [METRIC_CLASSES[m](protocol, self.config) for m in metrics]

    def update(
        self, video: np.ndarray, truth: BackgroundTruth, *, key: str, name: str | None = None
    ) -> VideoBackground:
        """Analyse one generated video against its ground truth and add it to every metric."""
        size = self.protocol.pixel_resolution
        if size is not None:
            if video.ndim != 4:
                raise ValueError(f"{name or key}: expected frames [T, H, W, 3], got shape {video.shape}")
            video, truth = resize_video(video, size), truth.at_size(size, size)
        analysis = analyse_background(video, truth, self.config, name=name or key)
        for m in self.metrics:
            m.update(analysis, key=key)
        return analysis

    def merge(self, other: BackgroundSuite) -> None:
        if [m.name for m in other.metrics] != [m.name for m in self.metrics]:
            raise ValueError("cannot merge background suites with different metrics")
        for mine, theirs in zip(self.metrics, other.metrics, strict=True):
            mine.merge(theirs)

    def compute(self) -> dict[str, float]:
        return {m.name: m.compute() for m in self.metrics}

    def rows(self) -> list[dict[str, Any]]:
        """One result row per metric, in the shape `benchmark.scoring` writes."""
        return [
            {
                "metric": m.name,
                "value": m.compute(),
                "higher_is_better": m.higher_is_better,
                "unit": m.unit,
                "protocol": m.protocol.name,
                "protocol_view": m.view,
                "num_videos": None,
                "num_scored_videos": m.n,
                "per_video": dict(m.per_video),
                **m.extra(),
            }
            for m in self.metrics
        ]


def background_suite(
    videos: Iterable[np.ndarray],
    truths: Iterable[BackgroundTruth],
    *,
    keys: Iterable[str] | None = None,
    protocol: Protocol | None = None,
    config: SuiteConfig | None = None,
) -> dict[str, float]:
    """The suite's values for generated `videos` against `truths` (paired in order) in one call."""
    suite = BackgroundSuite(protocol or get_protocol("bd16"), config=config)
    videos, truths = list(videos), list(truths)
    if len(videos) != len(truths):
        raise ValueError(f"{len(videos)} videos but {len(truths)} ground truths")
    names = list(keys) if keys is not None else [f"video{i}" for i in range(len(videos))]
    if len(names) != len(videos):
        raise ValueError(f"{len(names)} keys for {len(videos)} videos")
    for key, video, truth in zip(names, videos, truths, strict=True):
        suite.update(video, truth, key=key)
    return suite.compute()
