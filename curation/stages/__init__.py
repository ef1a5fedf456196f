"""Curation stages: each wraps one algorithm of `curation` as a small class that declares its resources, loads
what it needs once in `setup()` on the worker, and transforms one clip record (failures become data)."""

from curation.stages.base import ClipStage, Resources
from curation.stages.clip_stages import (
    CameraStage,
    EncodeStage,
    FilterStage,
    ForegroundStage,
    PoseStage,
    QualityStage,
    TrackStage,
)
from curation.stages.source import DecodeStage

__all__ = [
    "CameraStage", "ClipStage", "DecodeStage", "EncodeStage", "FilterStage", "ForegroundStage", "PoseStage",
    "QualityStage", "Resources", "TrackStage",
]  # fmt: skip
