"""The foreground stage: the persons' mask on the CPU (`pose`: the pose backend's own segmentation where it gives one,
as mediapipe does, otherwise drawn from the keypoints), or from a learned backend (`foreground: {backend: sam2}`:
SAM2 prompted with the keypoints' boxes); dilated the same way for every one."""

from __future__ import annotations

from typing import ClassVar

from curation.person.foreground_mask import dilate_by_height, foreground_masks
from curation.record import Record
from curation.resources import Resources
from curation.stages.base import BackendStage


class ForegroundStage(BackendStage):
    name = "foreground"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)

    def process(self, record: Record) -> Record:
        segmented = record.pop("person_mask", None)  # the pose backend's segmentation, gated by its keypoints
        if self.model is None and segmented is not None:
            record["fgmask"] = segmented
            record["fgmask_dilated"] = dilate_by_height(segmented, record["pose"], self.config.foreground)
            return record
        if self.model is not None:
            mask = self.model.masks(record["frames"], record["pose"]).any(axis=1)
            record["fgmask"] = mask
            record["fgmask_dilated"] = dilate_by_height(mask, record["pose"], self.config.foreground)
            return record
        record["fgmask"], record["fgmask_dilated"] = foreground_masks(
            record["frames"], record["pose"], self.config.foreground
        )
        return record
