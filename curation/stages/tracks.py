"""The tracks stage: background point tracks from the CPU tracker, or from a learned backend (`tracks: {backend:
cotracker3}`)."""

from __future__ import annotations

from typing import ClassVar

from curation.motion.tracks import track_clip
from curation.quality.content import bars_mask, letterbox_bars
from curation.record import Record
from curation.resources import Resources
from curation.stages.base import BackendStage


class TrackStage(BackendStage):
    name = "tracks"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)

    def process(self, record: Record) -> Record:
        # Letterbox bars hold no background: no query is placed in them (static points there would pull the camera
        # estimate towards a still camera).
        bars = letterbox_bars(record["frames"])
        avoid = record["fgmask"] | bars_mask(record["frames"].shape[1:3], bars) if any(bars) else record["fgmask"]
        if self.model is not None:
            tracks = self.model.track(record["frames"], avoid)
        else:
            tracks = track_clip(record["frames"], avoid, self.config.tracks)
        record["queries"], record["tracks"], record["visible"] = tracks.queries, tracks.positions, tracks.visible
        return record
