"""The filter stage: the configured rules over a clip's scores and camera label; a failing clip is rejected with every
failing rule as its reason."""

from __future__ import annotations

from typing import ClassVar

from curation.quality.filters import apply_filters
from curation.record import REJECTED, Record
from curation.resources import Resources
from curation.stages.base import ClipStage


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
