"""The tracks stage: background point tracks from the CPU tracker, or from a learned backend (`tracks: {backend:
cotracker3}`)."""

from __future__ import annotations

from typing import ClassVar

from curation.backends.registry import backend_for
from curation.motion.tracks import track_clip
from curation.record import Record
from curation.resources import Resources
from curation.stages.base import ClipStage


class TrackStage(ClipStage):
    name = "tracks"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)

    def setup(self) -> None:
        self._backend = backend_for(self.name, self.config)
        self._tracker = self._backend.load(self.config)

    @property
    def backend(self) -> str:
        return self._backend.version(self._tracker)

    def process(self, record: Record) -> Record:
        if self._tracker is not None:
            tracks = self._tracker.track(record["frames"], record["fgmask"])
        else:
            tracks = track_clip(record["frames"], record["fgmask"], self.config.tracks)
        record["queries"], record["tracks"], record["visible"] = tracks.queries, tracks.positions, tracks.visible
        return record
