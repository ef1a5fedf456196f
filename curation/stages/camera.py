"""The camera stage: homographies frame 0 -> t from the masked tracks, the clip's label and magnitude, and its final
`track_mask` (`curation.motion.track_mask.background_track_mask`)."""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from curation.motion.camera_estimation import estimate_camera
from curation.motion.track_mask import background_track_mask, make_track_mask
from curation.motion.tracks import Tracks
from curation.record import Record
from curation.resources import Resources
from curation.stages.base import ClipStage


class CameraStage(ClipStage):
    """Homographies from the masked tracks, and the clip's final `track_mask` (`track_mask.background_track_mask`)."""

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
