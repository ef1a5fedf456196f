"""What every stage shares: declared resources, a one-time `setup()`, and failures recorded instead of raised."""

from __future__ import annotations

import traceback
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from curation.config import CurationConfig
from curation.pipeline.record import OK, Record, mark_failed


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


class ClipStage(ABC):
    """One clip record in, the same record out with this stage's outputs (or marked failed with the reason).

    `raise_errors=True` lets exceptions through instead (tests want to fail hard; production records and goes on).
    """

    name: ClassVar[str]
    resources: ClassVar[Resources] = Resources()

    def __init__(self, config: CurationConfig | None = None, *, raise_errors: bool = False) -> None:
        self.config = config or CurationConfig()
        self.raise_errors = raise_errors
        self._ready = False

    @classmethod
    def resources_for(cls, config: CurationConfig) -> Resources:
        """What one worker needs under `config`: stages with a learned backend ask for a GPU share and more memory
        when it is selected (the class attribute `resources` is the CPU default's)."""
        return cls.resources

    def setup(self) -> None:  # noqa: B027 - most stages have nothing to load
        """Load models and open files once per worker, before the first record."""

    @property
    def backend(self) -> str:
        """The backend and its version, recorded in every clip's metadata."""
        return "cpu"

    @abstractmethod
    def process(self, record: Record) -> Record:
        """The stage's work on a record whose status is ok."""

    def __call__(self, record: Record) -> Record:
        if record.get("status") != OK:
            return record
        try:
            if not self._ready:
                self.setup()
                self._ready = True
            record = self.process(record)
            record.setdefault("backends", {})[self.name] = self.backend
            return record
        except Exception as error:  # a failure is data: the clip keeps the stage and reason, the job goes on
            if self.raise_errors:
                raise
            where = traceback.extract_tb(error.__traceback__)[-1]
            place = f"{where.name}, {where.filename.rsplit('/', 1)[-1]}:{where.lineno}"
            reason = f"{type(error).__name__}: {error} (at {place})"
            return mark_failed(record, self.name, reason)
