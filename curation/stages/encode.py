"""The encode stage: the clip's frames as H.264 bytes, the shard's `mp4` member."""

from __future__ import annotations

import os
import tempfile
from typing import ClassVar

import av

from curation.record import Record
from curation.resources import Resources
from curation.stages.base import ClipStage
from curation.video.encode import write_mp4


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
