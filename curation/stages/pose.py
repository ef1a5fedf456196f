"""The pose stage: COCO-WholeBody keypoints per clip, from a sidecar file beside the source (`NAME.pose.npz|.npy`,
or the synthetic `NAME.gt.npz`), from mediapipe on the CPU (`auto`, the default, where there is no sidecar), or from
a learned backend (`pose: {backend: dwpose}`). Where the estimator also segments the person (mediapipe), its mask
travels in the record as `person_mask` for the foreground stage."""

from __future__ import annotations

from typing import Any, ClassVar

from curation.backends.registry import get_backend
from curation.person.pose_choice import SIDECAR, no_sidecar_reason, pose_route
from curation.person.pose_sidecar import SidecarPose, find_sidecar
from curation.record import Record
from curation.resources import Resources
from curation.stages.base import BackendStage


class PoseStage(BackendStage):
    name = "pose"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)

    def setup(self) -> None:
        super().setup()
        # The sidecar of the current source, read once: its clips arrive together. A source whose sidecar cannot be
        # read keeps that error, so its later clips fail with the same reason instead of a worse one.
        self._source: str | None = None
        self._sidecar: SidecarPose | None = None
        self._error: Exception | None = None
        self._used = self.selected.name

    def _estimator(self) -> Any:
        if self.model is None:  # `auto`: mediapipe is loaded on the first source without a sidecar
            self.model = get_backend("pose", "mediapipe").load(self.config)
        return self.model

    def _sidecar_for(self, source: str, source_size: tuple[int, int]) -> SidecarPose:
        if source != self._source:
            self._source, self._sidecar, self._error = source, None, None
            try:
                path = find_sidecar(source)
                if path is None:
                    raise FileNotFoundError(no_sidecar_reason(source))
                self._sidecar = SidecarPose(path, source_size)
            except Exception as error:
                self._error = error
        if self._error is not None:
            raise self._error
        return self._sidecar  # type: ignore[return-value]  # set whenever no error was kept

    def process(self, record: Record) -> Record:
        backend = self.selected.name
        if backend in ("auto", "sidecar") and pose_route(record["source"], backend) == SIDECAR:
            sidecar = self._sidecar_for(record["source"], tuple(record["source_size"]))
            record["pose"] = sidecar.estimate(record["frames"], record["source_frames"])
            self._used = "sidecar"
            return record
        estimator = self._estimator()
        if hasattr(estimator, "estimate_clip"):
            record["pose"], record["person_mask"] = estimator.estimate_clip(record["frames"])
        else:
            record["pose"] = estimator.estimate(record["frames"], record["source_frames"])
        self._used = str(estimator.version)
        return record

    @property
    def backend(self) -> str:
        return self._used
