"""The per-clip stages on the embedded (CPU, weights-free) backends: pose, foreground, tracks, camera, quality,
filter, encode. Each is a thin wrapper around the plain functions of `curation`."""

from __future__ import annotations

import os
import tempfile
from typing import ClassVar

import av
import cv2
import numpy as np

from curation.config import CurationConfig
from curation.motion.camera_estimation import estimate_camera
from curation.motion.tracks import Tracks, background_track_mask, make_track_mask, track_clip
from curation.person.foreground_mask import dilate_by_height, foreground_masks
from curation.person.pose_sidecar import SidecarPose, find_sidecar
from curation.pipeline.record import REJECTED, Record
from curation.quality import scores as quality
from curation.quality.filters import apply_filters
from curation.quality.iqa import NoReferenceScorer
from curation.stages.base import ClipStage, Resources
from curation.stages.learned import LEARNED_RESOURCES, learned_resources
from curation.video.encode import write_mp4


class PoseStage(ClipStage):
    """Keypoints from the sidecar file beside the source (`NAME.pose.npz|.npy` or the synthetic `NAME.gt.npz`), or
    from DWPose on ONNX Runtime (`pose.backend: dwpose`)."""

    name = "pose"
    resources: ClassVar[Resources] = Resources(cpus=0.5, memory_gb=0.5)

    @classmethod
    def resources_for(cls, config: CurationConfig) -> Resources:
        if config.pose.backend == "dwpose":
            return learned_resources(LEARNED_RESOURCES["dwpose"], config.dwpose.device)
        return cls.resources

    def setup(self) -> None:
        self._source: str | None = None
        self._sidecar: SidecarPose | None = None
        self._estimator = None
        if self.config.pose.backend == "dwpose":
            from curation.backends.dwpose import DWPoseEstimator

            self._estimator = DWPoseEstimator(self.config.dwpose)

    @property
    def backend(self) -> str:
        return self._estimator.version if self._estimator is not None else self.config.pose.backend

    def process(self, record: Record) -> Record:
        if self._estimator is not None:
            record["pose"] = self._estimator.estimate(record["frames"], record["source_frames"])
            return record
        source = record["source"]
        if source != self._source:  # clips of one source arrive together: read its sidecar once
            self._source, self._sidecar = source, None
            path = find_sidecar(source)
            if path is None:
                raise FileNotFoundError(
                    f"{source}: no pose sidecar beside it (looked for NAME.pose.npz, "
                    f"NAME.pose.npy, NAME.gt.npz); the learned pose backend is not configured"
                )
            self._sidecar = SidecarPose(path, tuple(record["source_size"]))
        record["pose"] = self._sidecar.estimate(  # type: ignore[union-attr]
            record["frames"], record["source_frames"]
        )
        return record


class ForegroundStage(ClipStage):
    """The persons' mask from keypoints on the CPU, or from SAM2 prompted with the keypoints' boxes
    (`foreground.backend: sam2`); dilated the same way for either."""

    name = "foreground"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)

    @classmethod
    def resources_for(cls, config: CurationConfig) -> Resources:
        if config.foreground.backend == "sam2":
            return learned_resources(LEARNED_RESOURCES["sam2"], config.sam2.device)
        return cls.resources

    def setup(self) -> None:
        self._sam2 = None
        if self.config.foreground.backend == "sam2":
            from curation.backends.sam2_masks import Sam2Masks

            self._sam2 = Sam2Masks(self.config.sam2)

    @property
    def backend(self) -> str:
        return self._sam2.version if self._sam2 is not None else "cpu"

    def process(self, record: Record) -> Record:
        if self._sam2 is not None:
            mask = self._sam2.masks(record["frames"], record["pose"]).any(axis=1)
            record["fgmask"] = mask
            record["fgmask_dilated"] = dilate_by_height(mask, record["pose"], self.config.foreground)
            return record
        record["fgmask"], record["fgmask_dilated"] = foreground_masks(
            record["frames"], record["pose"], self.config.foreground
        )
        return record


class TrackStage(ClipStage):
    """Background tracks from the CPU tracker, or CoTracker3 (`tracks.backend: cotracker3`)."""

    name = "tracks"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)

    @classmethod
    def resources_for(cls, config: CurationConfig) -> Resources:
        if config.tracks.backend == "cotracker3":
            return learned_resources(LEARNED_RESOURCES["cotracker3"], config.cotracker.device)
        return cls.resources

    def setup(self) -> None:
        self._cotracker = None
        if self.config.tracks.backend == "cotracker3":
            from curation.backends.cotracker import CoTrackerBackend

            self._cotracker = CoTrackerBackend(self.config.cotracker)

    @property
    def backend(self) -> str:
        return self._cotracker.version if self._cotracker is not None else f"opencv-lk {cv2.__version__}"

    def process(self, record: Record) -> Record:
        if self._cotracker is not None:
            tracks = self._cotracker.track(record["frames"], record["fgmask"])
        else:
            tracks = track_clip(record["frames"], record["fgmask"], self.config.tracks)
        record["queries"], record["tracks"], record["visible"] = tracks.queries, tracks.positions, tracks.visible
        return record


class CameraStage(ClipStage):
    """Homographies from the masked tracks, and the clip's final `track_mask` (`tracks.background_track_mask`)."""

    name = "camera"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=0.5)

    @property
    def backend(self) -> str:
        return f"opencv-{self.config.camera.method} {cv2.__version__}"

    def process(self, record: Record) -> Record:
        frames = record["frames"]
        size = (frames.shape[2], frames.shape[1])
        mask = make_track_mask(record["tracks"], record["visible"], record["fgmask_dilated"])
        camera = estimate_camera(record["tracks"], mask, size, self.config.camera)
        tracks = Tracks(record["queries"], np.arange(len(record["queries"])), record["tracks"], record["visible"])
        record["track_mask"] = background_track_mask(tracks, record["fgmask_dilated"], camera)
        record["camera"] = camera.homographies
        record["camera_label"] = camera.label
        record["camera_magnitude"] = camera.magnitude
        ratio = camera.inlier_ratio[1:]
        record["camera_inlier_ratio"] = float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else float("nan")
        return record


class QualityStage(ClipStage):
    """Weights-free scores always; pyiqa no-reference scores when their weights are found locally."""

    name = "quality"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)

    def setup(self) -> None:
        settings = self.config.quality
        self.scorers = [NoReferenceScorer(name, settings.weights_dir, settings.device) for name in settings.pyiqa]
        for scorer in self.scorers:
            if scorer.available:
                scorer.load()

    def process(self, record: Record) -> Record:
        frames = record["frames"]
        scores: dict[str, float | None] = {}
        scores.update(quality.image_scores(frames, self.config.quality.frames))
        scores.update(quality.motion_scores(record["tracks"], record["track_mask"], record["camera_magnitude"]))
        scores.update(quality.person_scores(record["pose"], record["fgmask"]))
        missing: dict[str, str] = {}
        sample = frames[quality.sample_frame_indices(len(frames), self.config.quality.frames)]
        for scorer in self.scorers:
            if scorer.available:
                scores[scorer.name] = scorer.score(sample)
            else:
                scores[scorer.name] = None
                missing[scorer.name] = scorer.missing_reason
        record["scores"], record["scores_missing"] = scores, missing
        return record


class FilterStage(ClipStage):
    name = "filter"
    resources: ClassVar[Resources] = Resources(cpus=0.1, memory_gb=0.1)

    @property
    def backend(self) -> str:
        return "rules"

    def process(self, record: Record) -> Record:
        decision = apply_filters(record["scores"], record.get("camera_label"), self.config.filters)
        record["filter"] = {"kept": decision.kept, "reasons": list(decision.reasons), "skipped": list(decision.skipped)}
        if not decision.kept:
            record.update(status=REJECTED, stage=self.name, reason=decision.reason)
        return record


class EncodeStage(ClipStage):
    """The clip's frames as H.264 bytes (one thread: the same frames give the same bytes)."""

    name = "encode"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=0.5)

    @property
    def backend(self) -> str:
        return f"libx264 via pyav {av.__version__}"

    def process(self, record: Record) -> Record:
        settings = self.config.encode
        with tempfile.TemporaryDirectory(prefix="backdrop-encode-") as tmp:
            path = os.path.join(tmp, "clip.mp4")
            write_mp4(path, record["frames"], record["fps"], crf=settings.crf, preset=settings.preset)
            with open(path, "rb") as handle:
                record["mp4"] = handle.read()
        return record
