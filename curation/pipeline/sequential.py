"""The sequential runner: every stage in order on one process, no Ray. It is the reference the Ray job is measured
against, the engine of `backdrop inspect`, and what tests run."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from curation.config import CurationConfig
from curation.pipeline.spec import build_stages
from curation.record import Record


@dataclass
class StageTimes:
    """Seconds spent in each stage, wall time by default (the source stage decodes, clips and resizes)."""

    seconds: dict[str, float] = field(default_factory=dict)
    clips: int = 0
    clock: Callable[[], float] = time.perf_counter  # time.process_time for CPU seconds

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds


def run_sequential(
    sources: Iterable[str | os.PathLike],
    config: CurationConfig | None = None,
    *,
    raise_errors: bool = False,
    times: StageTimes | None = None,
    on_record: Callable[[Record], None] | None = None,
) -> Iterator[Record]:
    """Yield every finished record (ok, rejected or failed) of every source, clip by clip, in source order.

    Clips are streamed: a source's next clip is decoded only after the previous one went through every stage.
    """
    decode, stages = build_stages(config, raise_errors=raise_errors)
    times = times if times is not None else StageTimes()
    for source in sources:
        clips = iter(decode(source))
        while True:
            start = times.clock()
            record = next(clips, None)
            times.add(decode.name, times.clock() - start)
            if record is None:
                break
            for stage in stages:
                start = times.clock()
                record = stage(record)
                times.add(stage.name, times.clock() - start)
            times.clips += 1
            if on_record is not None:
                on_record(record)
            yield record
