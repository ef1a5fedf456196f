"""The quality stage: weights-free scores always, pyiqa no-reference scores when their weights are found locally."""

from __future__ import annotations

from typing import ClassVar

from curation.config import CurationConfig
from curation.quality import scores as quality
from curation.quality.content import content_scores
from curation.quality.iqa import NoReferenceScorer
from curation.record import Record
from curation.resources import Resources
from curation.stages.base import ClipStage


class QualityStage(ClipStage):
    """Weights-free scores always; pyiqa no-reference scores when their weights are found locally."""

    name = "quality"
    resources: ClassVar[Resources] = Resources(cpus=1.0, memory_gb=1.0)

    @classmethod
    def loads_model(cls, config: CurationConfig) -> bool:
        """Whether a configured pyiqa network has its weights here (the same paths on every node), and so is loaded
        once per worker; without weights the scores are recorded as missing and nothing is loaded."""
        settings = config.quality
        return any(NoReferenceScorer(name, settings.weights_dir, settings.device).available for name in settings.pyiqa)

    def setup(self) -> None:
        settings = self.config.quality
        self.scorers = [NoReferenceScorer(name, settings.weights_dir, settings.device) for name in settings.pyiqa]
        for scorer in self.scorers:
            if scorer.available:
                scorer.load()

    def process(self, record: Record) -> Record:
        frames = record["frames"]
        scores: dict[str, float | None] = {}
        scores.update(quality.image_scores(frames, self.config.quality.frames))
        scores.update(content_scores(frames))
        scores.update(quality.motion_scores(record["tracks"], record["track_mask"], record["camera_magnitude"]))
        scores.update(quality.person_scores(record["pose"], record["fgmask"]))
        missing: dict[str, str] = {}
        sample = frames[quality.sample_frame_indices(len(frames), self.config.quality.frames)]
        for scorer in self.scorers:
            if scorer.available:
                scores[scorer.name] = scorer.score(sample)
            else:
                scores[scorer.name] = None
                missing[scorer.name] = scorer.missing_reason
        record["scores"], record["scores_missing"] = scores, missing
        return record
