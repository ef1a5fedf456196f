"""Curation settings: one dataclass per stage, read from YAML (`yaml.safe_load`) with unknown keys refused.

A YAML file lists only what it changes, for example::

    clips: {frames: 48, fps: 24, short_side: 512}
    tracks: {grid_step: 16}
    pose: {backend: dwpose}          # learned backends: see curation/backends and README "Learned backends"
    dwpose: {device: auto, batch_frames: 16}
    quality: {pyiqa: [musiq], weights_dir: ~/backdrop-weights}
    filters:
      - {score: person_count, min: 1, max: 1}
      - {score: sharpness, min: 20}

Every stage reads its own section, so a stage's settings travel with it to a worker.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from curation.backends.cotracker import CoTrackerSettings
from curation.backends.dwpose import DWPoseSettings
from curation.backends.mediapipe_pose import MediaPipeSettings
from curation.backends.registry import get_backend
from curation.backends.sam2_masks import Sam2Settings
from curation.motion.camera_estimation import CameraConfig
from curation.motion.tracks import TrackerConfig
from curation.person.foreground_mask import ForegroundConfig
from curation.quality.filters import DEFAULT_FILTERS, FilterRule, parse_rules
from curation.quality.iqa import IQA_METRICS
from curation.quality.scores import WEIGHTS_FREE_SCORES


@dataclass(frozen=True)
class ClipConfig:
    frames: int = 48  # frames per clip
    stride: int | None = None  # frames between clip starts inside a shot (None: back to back)
    max_per_shot: int | None = None  # at most this many clips from one shot (None: all)
    fps: float | None = None  # output frame rate (None: the source's average rate)
    # Clips are resized so their short side is this long (None: source size), with both sides rounded to multiples
    # of 4: x264 is only byte-reproducible here when the chroma planes have even sizes.
    short_side: int | None = 512
    cut_threshold: float = 3.0  # PySceneDetect adaptive detector: change / neighbours' mean change for a cut
    min_shot_frames: int = 8
    detect_short_side: int = 144  # shot detection runs on frames this small (it compares colour statistics)
    max_source_side: int = 7680  # sources larger than this (8K) are refused rather than decoded
    min_source_side: int = 64  # sources whose short side is below this are refused rather than upscaled

    def __post_init__(self) -> None:
        if self.frames < 2:
            raise ValueError(f"clips.frames must be at least 2, got {self.frames}")
        if self.stride is not None and self.stride < 1:
            raise ValueError(f"clips.stride must be at least 1, got {self.stride}")
        if self.max_per_shot is not None and self.max_per_shot < 1:
            raise ValueError(f"clips.max_per_shot must be at least 1, got {self.max_per_shot}")
        if self.fps is not None and not self.fps > 0:
            raise ValueError(f"clips.fps must be positive, got {self.fps}")
        if self.short_side is not None and self.short_side < 16:
            raise ValueError(f"clips.short_side must be at least 16, got {self.short_side}")
        if self.min_source_side < 4:
            raise ValueError(f"clips.min_source_side must be at least 4, got {self.min_source_side}")
        if self.min_shot_frames < 1:
            raise ValueError(f"clips.min_shot_frames must be at least 1, got {self.min_shot_frames}")


@dataclass(frozen=True)
class PoseConfig:
    # "auto": a sidecar where one is beside the video, otherwise mediapipe (CPU, nothing to download, configured in
    # the `mediapipe` section); "sidecar": keypoints shipped beside the video only (see
    # curation.person.pose_sidecar.find_sidecar); "mediapipe": always mediapipe; "dwpose": DWPose on ONNX Runtime,
    # configured in the `dwpose` section.
    backend: str = "auto"

    def __post_init__(self) -> None:
        get_backend("pose", self.backend)


@dataclass(frozen=True)
class QualityConfig:
    frames: int = 8  # frames sampled evenly from a clip for the image scores
    pyiqa: tuple[str, ...] = ("musiq",)  # no-reference metrics, computed only when their weights are found locally
    weights_dir: str | None = None  # None: $BACKDROP_WEIGHTS or ~/.cache/backdrop/weights
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.frames < 1:
            raise ValueError(f"quality.frames must be at least 1, got {self.frames}")
        unknown = [name for name in self.pyiqa if name not in IQA_METRICS]
        if unknown:
            raise ValueError(f"quality.pyiqa: unknown metrics {unknown}; known: {sorted(IQA_METRICS)}")


X264_PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo",
)  # fmt: skip


@dataclass(frozen=True)
class EncodeConfig:
    crf: int = 18
    preset: str = "veryfast"

    def __post_init__(self) -> None:
        if not 0 <= self.crf <= 51:
            raise ValueError(f"encode.crf must lie in [0, 51], got {self.crf}")
        if self.preset not in X264_PRESETS:
            raise ValueError(f"encode.preset must be one of {list(X264_PRESETS)}, got {self.preset!r}")


@dataclass(frozen=True)
class CurationConfig:
    clips: ClipConfig = field(default_factory=ClipConfig)
    pose: PoseConfig = field(default_factory=PoseConfig)
    foreground: ForegroundConfig = field(default_factory=ForegroundConfig)
    tracks: TrackerConfig = field(default_factory=TrackerConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    filters: tuple[FilterRule, ...] = DEFAULT_FILTERS  # `filters: [...]` in a config replaces them, `[]` drops them
    encode: EncodeConfig = field(default_factory=EncodeConfig)
    # Settings of the learned backends, read only when a stage selects them.
    mediapipe: MediaPipeSettings = field(default_factory=MediaPipeSettings)
    dwpose: DWPoseSettings = field(default_factory=DWPoseSettings)
    sam2: Sam2Settings = field(default_factory=Sam2Settings)
    cotracker: CoTrackerSettings = field(default_factory=CoTrackerSettings)

    def __post_init__(self) -> None:
        # Every stage with a choice of backend is checked against the one registry (names, resources, loaders).
        for stage in ("foreground", "tracks"):
            get_backend(stage, getattr(self, stage).backend)
        # A filter on a score no stage computes would be skipped for every clip: refuse it here, by name.
        known = (*WEIGHTS_FREE_SCORES, *self.quality.pyiqa)
        for index, rule in enumerate(self.filters):
            if rule.score is not None and rule.score not in known:
                close = difflib.get_close_matches(rule.score, [*known, *IQA_METRICS], n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                if rule.score in IQA_METRICS:
                    hint = f" (a pyiqa metric: add it to quality.pyiqa, now {list(self.quality.pyiqa)})"
                raise ValueError(
                    f"filters[{index}]: unknown score {rule.score!r}{hint}; scores computed: {sorted(known)}"
                )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for the clip metadata and the manifest)."""
        return dataclasses.asdict(self)


_SECTIONS = {f.name: f for f in dataclasses.fields(CurationConfig)}


def _section(cls: type, name: str, values: Any) -> Any:
    if not isinstance(values, dict):
        raise ValueError(f"config section {name!r} must be a mapping, got {type(values).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"config section {name!r}: unknown keys {unknown}; known: {sorted(known)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return cls(**values)


def config_from_dict(data: dict[str, Any] | None) -> CurationConfig:
    """A CurationConfig from plain data; unknown sections or keys raise ValueError naming them."""
    data = data or {}
    if not isinstance(data, dict):
        raise ValueError(f"a curation config must be a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise ValueError(f"unknown config sections {unknown}; known: {sorted(_SECTIONS)}")
    kwargs: dict[str, Any] = {}
    for name, values in data.items():
        if name == "filters":
            kwargs[name] = parse_rules(values)
        else:
            kwargs[name] = _section(_SECTIONS[name].default_factory, name, values)  # type: ignore[misc]
    return CurationConfig(**kwargs)


def load_config(path: str | os.PathLike | None) -> CurationConfig:
    """Read a YAML config file (None: the defaults)."""
    if path is None:
        return CurationConfig()
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read the curation config: {error}") from error
    try:
        return config_from_dict(data)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from error
