"""What every stage shares: declared resources, a one-time `setup()` on the worker, and failures recorded as data.

Two kinds of stage, on one base: a `SourceStage` turns one source into its clip records (a flat map), a `ClipStage`
transforms one clip record. Both build their model (if any) once per worker, on first use, through `setup()`.
"""

from __future__ import annotations

import os
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import ClassVar

from curation.backends.registry import BACKENDS, backend_for, stage_resources
from curation.config import CurationConfig
from curation.record import OK, Record, failed_source, mark_failed
from curation.resources import Resources


def failure_reason(error: BaseException) -> str:
    """The exception and where it was raised, for a record's `reason`."""
    where = traceback.extract_tb(error.__traceback__)[-1]
    return f"{type(error).__name__}: {error} (at {where.name}, {where.filename.rsplit('/', 1)[-1]}:{where.lineno})"


class Stage(ABC):
    """A named step of the pipeline with its settings, its resources and a one-time setup.

    `raise_errors=True` lets exceptions through instead of recording them (tests fail hard; production records the
    failure and goes on).
    """

    name: ClassVar[str]
    resources: ClassVar[Resources] = Resources()

    def __init__(self, config: CurationConfig | None = None, *, raise_errors: bool = False) -> None:
        self.config = config or CurationConfig()
        self.raise_errors = raise_errors
        self._ready = False

    @classmethod
    def resources_for(cls, config: CurationConfig) -> Resources:
        """What one worker needs under `config`: a stage whose configured backend is learned asks for that
        backend's GPU share and memory (`curation.backends.registry`); otherwise the class's CPU request."""
        return stage_resources(cls.name, config, cls.resources)

    @classmethod
    def loads_model(cls, config: CurationConfig) -> bool:
        """Whether `setup()` loads a model under `config` (then a worker should live long and keep it: a Ray actor)."""
        if cls.name in {b.stage for b in BACKENDS}:
            return backend_for(cls.name, config).learned
        return False

    def setup(self) -> None:  # noqa: B027 - most stages have nothing to load
        """Load models and open files once per worker, before the first input."""

    def ensure_setup(self) -> None:
        if not self._ready:
            self.setup()
            self._ready = True

    @property
    def backend(self) -> str:
        """The backend and its version, recorded in every clip's metadata."""
        return "cpu"


class ClipStage(Stage):
    """One clip record in, the same record out with this stage's outputs (or marked failed with the reason)."""

    @abstractmethod
    def process(self, record: Record) -> Record:
        """The stage's work on a record whose status is ok."""

    def __call__(self, record: Record) -> Record:
        if record.get("status") != OK:
            return record
        try:
            self.ensure_setup()
            record = self.process(record)
            record.setdefault("backends", {})[self.name] = self.backend
            return record
        except Exception as error:  # a failure is data: the clip keeps the stage and reason, the job goes on
            if self.raise_errors:
                raise
            return mark_failed(record, self.name, failure_reason(error))


class BackendStage(ClipStage):
    """A clip stage whose work is done by the backend the configuration selects (`curation.backends.registry`):
    `setup()` loads that backend's model once (None for a CPU backend, which the stage runs itself)."""

    def setup(self) -> None:
        self.selected = backend_for(self.name, self.config)
        self.model = self.selected.load(self.config)

    @property
    def backend(self) -> str:
        return self.selected.version(self.model)


class SourceStage(Stage):
    """One source path in, its clip records out, streamed. A source that fails becomes one failed record naming it."""

    @abstractmethod
    def clips(self, source: str) -> Iterator[Record]:
        """The source's clip records, in order (failed records for problems found on the way)."""

    def __call__(self, source: str | os.PathLike) -> Iterator[Record]:
        source = os.fspath(source)
        try:
            self.ensure_setup()
            yield from self.clips(source)
        except Exception as error:
            if self.raise_errors:
                raise
            yield failed_source(source, self.name, f"{source}: {type(error).__name__}: {error}")
