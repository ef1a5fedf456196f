"""What one worker of a stage needs, so that a cluster can place it: CPUs, a GPU share, memory."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resources:
    """What one worker of a stage needs, so that a Ray cluster can place it."""

    cpus: float = 1.0
    gpus: float = 0.0  # a fraction shares one GPU between workers
    memory_gb: float = 1.0

    def __post_init__(self) -> None:
        if self.cpus < 0 or self.gpus < 0 or self.memory_gb <= 0:
            raise ValueError(f"resources must be non-negative (memory positive), got {self}")

    def as_ray_options(self) -> dict[str, float]:
        """Keyword arguments for Ray (`num_cpus`, `num_gpus`, `memory` in bytes)."""
        return {"num_cpus": self.cpus, "num_gpus": self.gpus, "memory": self.memory_gb * 2**30}

    def on_cpu(self) -> Resources:
        """The same request without the GPU share (a learned backend pinned to the CPU)."""
        return Resources(cpus=self.cpus, gpus=0.0, memory_gb=self.memory_gb)


def merged(requests: list[Resources]) -> Resources:
    """One worker that runs all of `requests` back to back: the largest of each."""
    return Resources(
        cpus=max(r.cpus for r in requests),
        gpus=max(r.gpus for r in requests),
        memory_gb=max(r.memory_gb for r in requests),
    )
