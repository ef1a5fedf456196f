"""The pose stage: COCO-WholeBody keypoints per clip, from a sidecar file beside the source (`NAME.pose.npz|.npy`,
or the synthetic `NAME.gt.npz`) or from a learned backend (`pose: {backend: dwpose}`)."""

from __future__ import annotations

from typing import ClassVar

from curation.backends.registry import backend_for
from curation.person.pose_sidecar import SidecarPose, find_sidecar
from curation.record import Record
from curation.resources import Resources
from curation.stages.base import ClipStage


class PoseStage(ClipStage):
    name = "pose"
    resources: ClassVar[Resources] = Resources(cpus=0.5, memory_gb=0.5)

    def setup(self) -> None:
        self._source: str | None = None
        self._sidecar: SidecarPose | None = None
        self._backend = backend_for(self.name, self.config)
        self._estimator = self._backend.load(self.config)

    @property
    def backend(self) -> str:
        return self._backend.version(self._estimator)

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
