"""The pose stage: COCO-WholeBody keypoints per clip, from a sidecar file beside the source (`NAME.pose.npz|.npy`,
or the synthetic `NAME.gt.npz`) or from a learned backend (`pose: {backend: dwpose}`)."""

from __future__ import annotations

from typing import ClassVar

from curation.person.pose_sidecar import SidecarPose, find_sidecar
from curation.record import Record
from curation.resources import Resources
from curation.stages.base import BackendStage


class PoseStage(BackendStage):
    name = "pose"
    resources: ClassVar[Resources] = Resources(cpus=0.5, memory_gb=0.5)

    def setup(self) -> None:
        super().setup()
        self._source: str | None = None  # the sidecar is read once per source: its clips arrive together
        self._sidecar: SidecarPose | None = None

    def process(self, record: Record) -> Record:
        if self.model is not None:
            record["pose"] = self.model.estimate(record["frames"], record["source_frames"])
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
