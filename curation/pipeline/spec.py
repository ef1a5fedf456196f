"""How the stages are grouped into the operators of a distributed pipeline, and what each operator asks for.

Every hop between two operators serialises a clip record (its frames included) through the object store and costs
a scheduled task. So consecutive stages that need no accelerator run in one operator, in one task, asking for the
largest CPU and memory request among them: the same placement a cluster would give each of them alone, without the
hops. A stage that needs a GPU (a learned backend on a GPU) is an operator of its own, so its GPU share is held only
while that stage runs and the CPU stages around it scale independently of the GPUs.

The source stage (decode, shots, clipping) leads the first operator: one task per source runs it and every CPU
stage after it, clip by clip, so frames never leave the worker that decoded them.
"""

from __future__ import annotations

from dataclasses import dataclass

from curation.config import CurationConfig
from curation.stages.base import ClipStage, Resources
from curation.stages.source import DecodeStage


@dataclass(frozen=True)
class Operator:
    """Stages run back to back in one task, and the resources that task asks for."""

    stages: tuple[str, ...]
    resources: Resources

    @property
    def name(self) -> str:
        return "+".join(self.stages)


def _merged(requests: list[Resources]) -> Resources:
    return Resources(
        cpus=max(r.cpus for r in requests),
        gpus=max(r.gpus for r in requests),
        memory_gb=max(r.memory_gb for r in requests),
    )


def plan_operators(config: CurationConfig, clip_stages: tuple[type[ClipStage], ...]) -> list[Operator]:
    """The operators for the source stage followed by `clip_stages`, in order, under `config`.

    The first operator always starts with the source stage; the stages of each operator appear in their given order.
    """
    operators: list[Operator] = []
    names: list[str] = [DecodeStage.name]
    requests: list[Resources] = [DecodeStage.resources]
    for stage in clip_stages:
        request = stage.resources_for(config)
        if request.gpus > 0:
            if names:
                operators.append(Operator(tuple(names), _merged(requests)))
            operators.append(Operator((stage.name,), request))
            names, requests = [], []
        else:
            names.append(stage.name)
            requests.append(request)
    if names:
        operators.append(Operator(tuple(names), _merged(requests)))
    return operators
