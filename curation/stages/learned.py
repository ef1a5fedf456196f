"""What the learned backends' workers declare to a Ray cluster. These are placement requests, sized from the models'
footprints (weights plus one batch or window at the default settings), not measurements; a GPU share lets several
workers of small models share one device."""

from __future__ import annotations

from curation.stages.base import Resources

LEARNED_RESOURCES: dict[str, Resources] = {
    "dwpose": Resources(cpus=2.0, gpus=0.25, memory_gb=3.0),  # two ONNX sessions, a batch of frames and crops
    "sam2": Resources(cpus=2.0, gpus=0.5, memory_gb=6.0),  # one window's frames and memory bank on the host
    "cotracker3": Resources(cpus=2.0, gpus=0.5, memory_gb=6.0),  # one window of frames at max_side
}


def learned_resources(resources: Resources, device: str) -> Resources:
    """`resources` without the GPU share when the backend is pinned to the CPU."""
    if device == "cpu":
        return Resources(cpus=resources.cpus, gpus=0.0, memory_gb=resources.memory_gb)
    return resources
