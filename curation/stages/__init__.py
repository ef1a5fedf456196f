"""Curation stages, one module each: a stage wraps one algorithm of `curation` as a small class that declares its
resources, loads what it needs once in `setup()` on the worker, and transforms its input (failures become data).
The order they run in, and how they are grouped for a cluster, is the pipeline spec (`curation.pipeline.spec`)."""

from curation.stages.base import BackendStage, ClipStage, SourceStage, Stage
from curation.stages.camera import CameraStage
from curation.stages.encode import EncodeStage
from curation.stages.filter import FilterStage
from curation.stages.foreground import ForegroundStage
from curation.stages.pose import PoseStage
from curation.stages.quality import QualityStage
from curation.stages.source import DecodeStage
from curation.stages.tracks import TrackStage

__all__ = [
    "BackendStage",
    "CameraStage",
    "ClipStage",
    "DecodeStage",
    "EncodeStage",
    "FilterStage",
    "ForegroundStage",
    "PoseStage",
    "QualityStage",
    "SourceStage",
    "Stage",
    "TrackStage",
]
