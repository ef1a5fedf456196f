"""The background-motion suite's metrics on the metric contract (`benchmark.metrics.base`).

Each generated video is analysed once (`analyse_sample`: frames resized to the protocol's resolution, then
`benchmark.metrics.background.analysis.analyse_background`: the ground truth's background points tracked through it,
its camera estimated); the analysis is kept on the sample, so the suite's eight metrics share it, and every metric
takes its value from it. A metric's state is the sum of its per-video values and their count (plus, for some, a few
summable counters), so merging the states of two halves gives the state of the whole; the reported value is the mean
over videos, as for the pixel metrics. Definitions: docs/metrics.md, "Background-motion suite".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np

from benchmark.metrics import BACKGROUND_METRICS, SUITE_METRICS
from benchmark.metrics.background.analysis import SuiteConfig, VideoBackground, analyse_background, first_frame_offset
from benchmark.metrics.background.truth import BackgroundTruth
from benchmark.metrics.base import MeanOverVideos, Sample, canonical_json, check_protocol, video_keys
from benchmark.protocol import Protocol, get_protocol
from benchmark.video import resize_video

__all__ = [
    "BACKGROUND_CLASSES",
    "BACKGROUND_METRICS",
    "SUITE_METRICS",
    "BackgroundMetric",
    "BackgroundSuite",
    "analyse_sample",
    "background_suite",
]


def analyse_sample(sample: Sample, protocol: Protocol, config: SuiteConfig) -> VideoBackground:
    """The suite's analysis of `sample.pred` against `sample.truth` (a `BackgroundTruth`), computed once per sample,
    protocol resolution and configuration. A reference video in the sample is checked against the truth first, so a
    stale or misplaced ground truth is named rather than silently scored."""
    if not isinstance(sample.truth, BackgroundTruth):
        raise TypeError(f"sample {sample.key!r}: the background suite needs a BackgroundTruth, got {sample.truth!r}")
    size = protocol.pixel_resolution

    def analyse() -> VideoBackground:
        video, truth, name = sample.pred, sample.truth, sample.name("pred")
        if sample.ref is not None:
            truth.check_video(sample.ref, sample.name("ref"))
        if size is None or video.ndim != 4 or video.shape[0] != truth.frames:
            truth.check_video(video, name)  # names the video as it was given, before any resizing
        if size is not None:
            video, truth = resize_video(video, size), truth.at_size(size, size)
        return analyse_background(video, truth, config, name=name)

    return sample.derived(("background", size, canonical_json(config.as_dict())), analyse)


class BackgroundMetric(MeanOverVideos):
    """Mean over videos of one per-video measure of the analysis (the attribute `field`)."""

    requires = ("pred", "truth")
    field: ClassVar[str]

    def __init__(self, protocol: Protocol, config: SuiteConfig | None = None) -> None:
        check_protocol(protocol, self.name)
        if config is not None and not isinstance(config, SuiteConfig):
            raise TypeError(f"{self.name}: config must be a SuiteConfig, got {type(config).__name__}")
        self.config = config or SuiteConfig()
        super().__init__(protocol)

    @classmethod
    def protocol_view(cls, protocol: Protocol, config: SuiteConfig | None = None) -> dict[str, Any]:
        # Background errors are in pixels of the compared frames: the resolution is part of what they mean.
        view = super().protocol_view(protocol) | {"pixel_resolution": protocol.pixel_resolution}
        return view | {"suite": (config or SuiteConfig()).as_dict()}

    def view_options(self) -> dict[str, Any]:
        return {"config": self.config}

    def value(self, analysis: VideoBackground) -> float | None:
        return getattr(analysis, self.field)

    def update(self, sample: Sample) -> float | None:
        """Analyse the sample's generated video against its ground truth (once per sample) and add its value."""
        self.check_sample(sample)
        return self.update_analysis(analyse_sample(sample, self.protocol, self.config), key=sample.key)

    def update_analysis(self, analysis: VideoBackground, *, key: str) -> float | None:
        """Add one video's value from its analysis (None: the video does not count for this metric)."""
        self.require_new(key)
        value = self.value(analysis)
        if value is None:
            self.skip(key, analysis)
            return None
        value = self.add_value(key, value)
        self.count_extra(key, analysis)
        return value

    def skip(self, key: str, analysis: VideoBackground) -> None:
        """Hook: a video without a value for this metric."""
        raise ValueError(f"{self.name}: no value for video {key!r}")

    def count_extra(self, key: str, analysis: VideoBackground) -> None:
        """Hook: add what else this metric keeps of a video with a value."""

    def extras(self) -> dict[str, Any]:
        return {"num_scored_videos": self.count}


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
    record_tables = ("labels",)  # key -> [estimated, ground truth]

    def count_extra(self, key: str, analysis: VideoBackground) -> None:
        self.records["labels"][key] = [analysis.predicted_label, analysis.reference_label]

    def extras(self) -> dict[str, Any]:
        return super().extras() | {"labels": dict(self.records["labels"])}


class EpipolarError(BackgroundMetric):
    name, higher_is_better, unit, field = "bg-epipolar", False, "px", "epipolar"

    def initial_state(self) -> dict[str, np.ndarray]:
        return super().initial_state() | {"frames": np.array(0.0), "fallback_frames": np.array(0.0)}

    def count_extra(self, key: str, analysis: VideoBackground) -> None:
        self.state["frames"] = self.state["frames"] + analysis.epipolar_frames
        self.state["fallback_frames"] = self.state["fallback_frames"] + analysis.epipolar_fallback_frames

    def extras(self) -> dict[str, Any]:
        frames, fallback = int(self.state["frames"]), int(self.state["fallback_frames"])
        fraction = fallback / frames if frames else None
        route = "sampson" if not fallback else "homography transfer" if fraction == 1 else "mixed"
        return super().extras() | {
            "epipolar_frames": frames,
            "epipolar_fallback_frames": fallback,
            "epipolar_fallback_fraction": fraction,
            "epipolar_route": route,
        }


class DynamicsRatio(BackgroundMetric):
    name, higher_is_better, unit, field = "bg-dynamics", None, "ratio (1 = as much motion as the truth)", "dynamics"
    # static_reference: videos left out (key -> the generated median displacement); motion: key -> [generated,
    # truth] median displacements from frame 0 in px (the leaderboard plots one against the other)
    record_tables = ("static_reference", "motion")

    def skip(self, key: str, analysis: VideoBackground) -> None:
        self.records["static_reference"][key] = analysis.motion_predicted
        self.records["motion"][key] = [analysis.motion_predicted, analysis.motion_reference]

    def count_extra(self, key: str, analysis: VideoBackground) -> None:
        self.records["motion"][key] = [analysis.motion_predicted, analysis.motion_reference]

    def compute(self) -> float:
        if self.count == 0:  # only static ground truths: the ratio is undefined, not an error of the run
            return float("nan")
        return super().compute()

    def extras(self) -> dict[str, Any]:
        return super().extras() | {
            "static_reference_videos": dict(self.records["static_reference"]),
            "motion_px": dict(self.records["motion"]),
        }


class FirstFrameAlignment(BackgroundMetric):
    """How far the generated first frame's background sits from the reference's: the truth's frame-0 background
    points tracked from the reference's first frame into the generated first frame, mean displacement (px). The
    suite's other metrics measure motion relative to each video's own first frame, so a video whose whole
    background is offset scores well there; this figure says so separately."""

    name, higher_is_better, unit, field = "bg-first-frame", False, "px", "first_frame"
    requires = ("pred", "ref", "truth")

    def update(self, sample: Sample) -> float:
        self.check_sample(sample)
        size = self.protocol.pixel_resolution

        def offset() -> float:
            pred, ref, truth = sample.pred[:1], sample.ref[:1], sample.truth
            if size is not None:
                pred, ref, truth = resize_video(pred, size), resize_video(ref, size), truth.at_size(size, size)
            return first_frame_offset(pred[0], ref[0], truth, self.config, name=sample.name("pred"))

        key = ("first-frame", size, canonical_json(self.config.as_dict()))
        return self.add_value(sample.key, sample.derived(key, offset))


BACKGROUND_CLASSES: dict[str, type[BackgroundMetric]] = {
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
        FirstFrameAlignment,
    )
}


class BackgroundSuite:
    """Several of the suite's metrics fed from one analysis per video."""

    def __init__(
        self, protocol: Protocol, metrics: Sequence[str] = SUITE_METRICS, config: SuiteConfig | None = None
    ) -> None:
        unknown = [m for m in metrics if m not in BACKGROUND_CLASSES]
        if unknown or not metrics:
            raise ValueError(f"unknown or no background metrics {unknown}; choose from {', '.join(BACKGROUND_CLASSES)}")
        self.protocol = protocol
        self.config = config or SuiteConfig()
        self.metrics = [BACKGROUND_CLASSES[m](protocol, self.config) for m in metrics]

    def update(
        self, video: np.ndarray, truth: BackgroundTruth, *, key: str, name: str | None = None
    ) -> VideoBackground:
        """Analyse one generated video against its ground truth and add it to every metric (no reference video here:
        `bg-first-frame` needs one, so it is scored through the harness, not this suite)."""
        sample = Sample(key, pred=video, truth=truth, pred_name=name or "")
        for m in self.metrics:
            m.update(sample)
        return analyse_sample(sample, self.protocol, self.config)

    def merge(self, other: BackgroundSuite) -> None:
        if [m.name for m in other.metrics] != [m.name for m in self.metrics]:
            raise ValueError("cannot merge background suites with different metrics")
        for mine, theirs in zip(self.metrics, other.metrics, strict=True):
            mine.merge(theirs)

    def compute(self) -> dict[str, float]:
        return {m.name: m.compute() for m in self.metrics}


def background_suite(
    videos: Iterable[np.ndarray],
    truths: Iterable[BackgroundTruth],
    *,
    keys: Iterable[str] | None = None,
    protocol: Protocol | None = None,
    config: SuiteConfig | None = None,
    metrics: Sequence[str] = SUITE_METRICS,
) -> dict[str, float]:
    """The suite's values (`metrics`, all by default) for generated `videos` against `truths` (paired in order) in
    one call (protocol bd16 unless given)."""
    suite = BackgroundSuite(protocol or get_protocol("bd16"), metrics, config=config)
    videos, truths = list(videos), list(truths)
    if len(videos) != len(truths):
        raise ValueError(f"{len(videos)} videos but {len(truths)} ground truths")
    for key, video, truth in zip(video_keys(keys, len(videos), "background suite"), videos, truths, strict=True):
        suite.update(video, truth, key=key)
    return suite.compute()
