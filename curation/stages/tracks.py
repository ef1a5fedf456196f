"""The tracks stage: background point tracks from the CPU tracker, or from a learned backend (`tracks: {backend:
cotracker3}`)."""

from __future__ import annotations

from typing import ClassVar

from curation.motion.tracks import track_clip
from curation.record import Record
from curation.resources import Resources
from curation.stages.base import BackendStage


class TrackStage(BackendStage):
    name = "tracks"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)

    def process(self, record: Record) -> Record:
        if self.model is not None:
            tracks = self.model.track(record["frames"], record["fgmask"])
        else:
            tracks = track_clip(record["frames"], record["fgmask"], self.config.tracks)
        record["queries"], record["tracks"], record["visible"] = tracks.queries, tracks.positions, tracks.visible
        return record
