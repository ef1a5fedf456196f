"""The pipeline spec: which stages run, in which order, and how they are grouped into the operators of a
distributed pipeline. Both runners read it: the sequential runner (`curation.pipeline.sequential`) runs the stages
in this order in one process; the Ray job (`jobs.ray_pipeline`) runs the operators planned here.

Every hop between two operators serialises a clip record (its frames included) through the object store and costs
a scheduled task. So consecutive stages that need no accelerator run in one operator, in one worker, asking for the
largest CPU and memory request among them: the same placement a cluster would give each of them alone, without the
hops. A stage that needs a GPU (a learned backend on a GPU) is an operator of its own, so its GPU share is held only
while that stage runs and the CPU stages around it scale independently of the GPUs.

The source stage (decode, shots, clipping) leads the first operator: one worker runs it and every CPU stage after
it, clip by clip, so frames never leave the worker that decoded them.
"""

from __future__ import annotations

from dataclasses import dataclass

from curation.config import CurationConfig
from curation.resources import Resources, merged
from curation.stages import (
    CameraStage,
    ClipStage,
    DecodeStage,
    EncodeStage,
    FilterStage,
    ForegroundStage,
    PoseStage,
    QualityStage,
    SourceStage,
    Stage,
    TrackStage,
)

#: The source stage: one video in, its clips out.
SOURCE_STAGE: type[SourceStage] = DecodeStage
#: The clip stages, in the order every clip goes through them.
CLIP_STAGES: tuple[type[ClipStage], ...] = (
    PoseStage,
    ForegroundStage,
    TrackStage,
    CameraStage,
    QualityStage,
    FilterStage,
    EncodeStage,
)
STAGE_CLASSES: dict[str, type[Stage]] = {cls.name: cls for cls in (SOURCE_STAGE, *CLIP_STAGES)}


@dataclass(frozen=True)
class Operator:
    """Stages run back to back in one worker, and the resources that worker asks for."""

    stages: tuple[str, ...]
    resources: Resources
    loads_model: bool = False  # a stage of it loads a model in setup(): run it on long-lived workers (actors)

    @property
    def name(self) -> str:
        return "+".join(self.stages)

    @property
    def reads_sources(self) -> bool:
        """Whether this operator starts with the source stage (a flat map from sources to clips)."""
        return self.stages[0] == SOURCE_STAGE.name


def build_stages(
    config: CurationConfig | None = None, *, raise_errors: bool = False
) -> tuple[SourceStage, list[ClipStage]]:
    """The source stage and the clip stages in order, as configured."""
    config = config or CurationConfig()
    return SOURCE_STAGE(config, raise_errors=raise_errors), [s(config, raise_errors=raise_errors) for s in CLIP_STAGES]


def plan_operators(config: CurationConfig, clip_stages: tuple[type[ClipStage], ...] = CLIP_STAGES) -> list[Operator]:
    """The operators for the source stage followed by `clip_stages`, in order, under `config`.

    The first operator always starts with the source stage; the stages of each operator appear in their given order.
    """
    operators: list[Operator] = []
    group: list[type[Stage]] = [SOURCE_STAGE]

    def close(stages: list[type[Stage]]) -> None:
        if stages:
            requests = [stage.resources_for(config) for stage in stages]
            loads = any(stage.loads_model(config) for stage in stages)
            operators.append(Operator(tuple(stage.name for stage in stages), merged(requests), loads))

    for stage in clip_stages:
        if stage.resources_for(config).gpus > 0:
            close(group)
            close([stage])
            group = []
        else:
            group.append(stage)
    close(group)
    return operators
