"""The curation job without its engine: skip finished sources, commit each source as it completes, pack at the end.

An engine turns a list of source paths into a stream of clip results and end markers
(`curation.shards.manifest_rows`); the sequential engine here runs the stages in this process, and `jobs.ray_pipeline`
runs them as a Ray Data pipeline. Both feed the same collector, so exactly-once and resumption do not depend on the
engine: a result may arrive twice (retried work) or out of order; a source is committed once all its records are in,
and only committed sources reach the shards.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.config import CurationConfig
from curation.pipeline.duplicates import duplicate_record, find_duplicates
from curation.pipeline.sequential import run_sequential
from curation.record import FAILED, REJECTED
from curation.shards.ledger import Ledger, job_lock
from curation.shards.manifest_rows import END, clip_result, end_marker, unit_of
from curation.shards.packing import PackResult, pack

Engine = Callable[[list[str]], Iterator[dict[str, Any]]]


@dataclass(frozen=True)
class JobOptions:
    test_fraction: float = 0.1  # share of sources (not clips) in the test split
    shard_mb: float = 256.0  # target shard size

    def __post_init__(self) -> None:
        if not 0.0 <= self.test_fraction <= 1.0:
            raise ValueError(f"test fraction must lie in [0, 1], got {self.test_fraction}")
        if not self.shard_mb > 0:
            raise ValueError(f"shard size must be positive, got {self.shard_mb} MB")


@dataclass
class JobSummary:
    sources: int = 0
    skipped: int = 0  # finished by an earlier run
    clips_this_run: int = 0  # records that went through the stages in this run
    seconds: float = 0.0
    status: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)  # (status, stage, reason) of rows not kept
    shards: dict[str, list[str]] = field(default_factory=dict)
    samples: Counter = field(default_factory=Counter)

    @property
    def clips_per_minute(self) -> float:
        return 60.0 * self.clips_this_run / self.seconds if self.seconds > 0 else 0.0


class SourceCollector:
    """Results of sources in flight; commits a source to the ledger once all of its records have arrived."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.results: dict[str, dict[str, dict[str, Any]]] = {}
        self.expected: dict[str, tuple[str, int]] = {}
        self.committed: dict[str, str] = {}

    def add(self, result: dict[str, Any]) -> str | None:
        """Take one result or end marker; returns the source path when this completed it."""
        source = result["source"]
        if source in self.committed:
            return None  # a late duplicate from retried work
        if result["kind"] == END:
            self.expected[source] = (result["unit"], result["records"])
        else:
            self.results.setdefault(source, {})[result["key"]] = result
        if source in self.expected:
            unit, count = self.expected[source]
            results = self.results.get(source, {})
            if len(results) >= count:
                self.ledger.commit(source, unit, list(results.values()))
                self.committed[source] = unit
                del self.results[source], self.expected[source]
                return source
        return None

    def unfinished(self) -> list[str]:
        return sorted(set(self.results) | set(self.expected))


def sequential_engine(config: CurationConfig) -> Engine:
    """Every stage in this process, source after source (the reference the Ray pipeline is measured against)."""

    def run(sources: list[str]) -> Iterator[dict[str, Any]]:
        current: str | None = None
        unit, count = "", 0
        for record in run_sequential(sources, config):
            if record["source"] != current:
                if current is not None:
                    yield end_marker(current, unit, count)
                current, count = record["source"], 0
            unit = unit_of(record["source"], record.get("source_id"))
            count += 1
            yield clip_result(record)
        if current is not None:
            yield end_marker(current, unit, count)

    return run


def reason_group(row: dict[str, Any]) -> tuple[str, str, str]:
    """(status, stage, reason) with the source path taken out, so one problem on many files counts as one reason."""
    reason = (row.get("reason") or "").replace(row["source"], "SOURCE")
    return row["status"], row.get("stage") or "", reason


def run_job(
    sources: Sequence[str],
    out: str | os.PathLike,
    engine: Engine,
    options: JobOptions | None = None,
    *,
    on_source: Callable[[str, int], None] | None = None,
) -> JobSummary:
    """Run (or resume) the job over resolved source paths; `on_source(path, clips)` after each commit.

    Raises `JobLockedError` when another job is writing `out`.
    """
    options = options or JobOptions()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with job_lock(out):
        return _run_locked(sources, out, engine, options, on_source)


def _run_locked(
    sources: Sequence[str], out: Path, engine: Engine, options: JobOptions, on_source: Callable[[str, int], None] | None
) -> JobSummary:
    ledger = Ledger(out)
    summary = JobSummary(sources=len(sources))
    units: dict[str, str] = {}
    todo: list[str] = []
    duplicates = {d.path: d for d in find_duplicates(sources)}
    for source in sources:
        unit = ledger.finished_unit(source)
        if unit is None:
            todo.append(source)
        else:
            units[source] = unit
    summary.skipped = len(units)
    collector = SourceCollector(ledger)
    for source in [s for s in todo if s in duplicates]:  # one row each, against the copy that is curated
        record = duplicate_record(duplicates[source])
        unit = unit_of(source, None)
        collector.add(clip_result(record))
        collector.add(end_marker(source, unit, 1))
        units[source] = unit
    todo = [s for s in todo if s not in duplicates]
    started = time.perf_counter()
    if todo:
        for result in engine(todo):
            if result["kind"] != END and result["source"] not in collector.committed:
                summary.clips_this_run += result["key"] not in collector.results.get(result["source"], {})
            done = collector.add(result)
            if done is not None:
                units[done] = collector.committed[done]
                if on_source is not None:
                    on_source(done, summary.clips_this_run)
    summary.seconds = time.perf_counter() - started
    missing = [s for s in todo if s not in collector.committed]
    if missing:
        raise RuntimeError(f"the engine ended before {len(missing)} sources were complete: {missing[:5]}")
    packed: PackResult = pack(
        out, units.values(), test_fraction=options.test_fraction, shard_bytes=int(options.shard_mb * 2**20)
    )
    summary.shards, summary.samples = packed.shards, packed.samples
    for row in packed.rows:
        summary.status[row["status"]] += 1
        if row["status"] in (REJECTED, FAILED):
            summary.reasons[reason_group(row)] += 1
    return summary
