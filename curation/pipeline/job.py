"""The curation job without its engine: skip finished sources, commit each source as it completes, pack at the end.

An engine turns a list of source paths into a stream of clip results and end markers
(`curation.shards.manifest_rows`); the sequential engine here runs the stages in this process, and `jobs.ray_pipeline`
runs them as a Ray Data pipeline. Both feed the same collector, so exactly-once and resumption do not depend on the
engine: a result may arrive twice (retried work) or out of order; a source is committed once all its records are in,
and only committed sources reach the shards.

Before any work the job claims the folder under its identity (`curation.pipeline.job_identity`): a folder curated
with other settings is refused, naming the differences, unless the mode is `overwrite`. At the end it packs, records
the identity with the versions the clips recorded, and writes the dataset card (`curation.dataset_card`).
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.config import CurationConfig
from curation.dataset_card import write_dataset_card
from curation.pipeline.duplicates import duplicate_record, find_duplicates
from curation.pipeline.job_identity import EXTEND, MODES, RESUME, JobIdentity, claim_folder, write_identity
from curation.pipeline.sequential import run_sequential
from curation.record import FAILED, REJECTED
from curation.shards.ledger import Ledger, job_lock
from curation.shards.manifest_rows import END, clip_result, end_marker, unit_of
from curation.shards.packing import PackResult, pack

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Engine:
    """Runs the stages over sources: `run(sources, job)` yields clip results (whose samples record the `job`
    stamp) and end markers; `config` is the curation configuration it runs."""

    name: str
    config: CurationConfig
    run: Callable[[list[str], dict[str, str]], Iterator[dict[str, Any]]]

    def __call__(self, sources: list[str], job: dict[str, str]) -> Iterator[dict[str, Any]]:
        return self.run(sources, job)


@dataclass(frozen=True)
class JobOptions:
    test_fraction: float = 0.1  # share of sources (not clips) in the test split
    shard_mb: float = 256.0  # target shard size
    mode: str = RESUME  # resume, extend or overwrite (curation.pipeline.job_identity)
    card: bool = True  # write the dataset card (README.md and card/) at the end

    def __post_init__(self) -> None:
        if not 0.0 <= self.test_fraction <= 1.0:
            raise ValueError(f"test fraction must lie in [0, 1], got {self.test_fraction}")
        if not self.shard_mb > 0:
            raise ValueError(f"shard size must be positive, got {self.shard_mb} MB")
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {list(MODES)}, got {self.mode!r}")


@dataclass
class JobSummary:
    sources: int = 0
    skipped: int = 0  # finished by an earlier run
    kept_from_folder: int = 0  # extend: sources the folder held that this run did not list
    left_out: int = 0  # resume: sources the folder held that this run did not list (not in the shards)
    sources_done: int = 0  # sources committed in this run
    clips_this_run: int = 0  # records that went through the stages in this run
    failed_this_run: int = 0  # of those, failed
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

    def run(sources: list[str], job: dict[str, str]) -> Iterator[dict[str, Any]]:
        current: str | None = None
        unit, count = "", 0
        for record in run_sequential(sources, config):
            if record["source"] != current:
                if current is not None:
                    yield end_marker(current, unit, count)
                current, count = record["source"], 0
            unit = unit_of(record["source"], record.get("source_id"))
            count += 1
            yield clip_result(record, job)
        if current is not None:
            yield end_marker(current, unit, count)

    return Engine("sequential", config, run)


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
    on_result: Callable[[JobSummary], None] | None = None,
) -> JobSummary:
    """Run (or resume, extend, overwrite: `options.mode`) the job over resolved source paths; `on_source(path,
    clips)` after each commit, `on_result(summary)` after every result (the summary's live counters).

    Raises `JobLockedError` when another job is writing `out`, `SettingsMismatchError` when `out` was curated with
    other settings (and the mode is not overwrite).
    """
    options = options or JobOptions()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with job_lock(out):
        return _run_locked(sources, out, engine, options, on_source, on_result)


def _run_locked(
    sources: Sequence[str],
    out: Path,
    engine: Engine,
    options: JobOptions,
    on_source: Callable[[str, int], None] | None,
    on_result: Callable[[JobSummary], None] | None,
) -> JobSummary:
    identity = JobIdentity.of(engine.config, options.test_fraction)
    claim_folder(out, identity, options.mode)
    write_identity(out, identity.document(shard_mb=options.shard_mb))  # before any unit: a killed run keeps it
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
    listed = set(sources)
    held = {path: unit for path, unit in ledger.finished().items() if path not in listed}
    if options.mode == EXTEND:
        summary.kept_from_folder = len(held)
    elif held:
        summary.left_out = len(set(held.values()) - set(units.values()))
        if summary.left_out:
            logger.warning(
                "%s holds %d curated sources that this run does not list: they are left out of the shards "
                "(--mode extend keeps them)",
                out,
                summary.left_out,
            )
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
        for result in engine(todo, identity.stamp()):
            if result["kind"] != END and result["source"] not in collector.committed:
                new = result["key"] not in collector.results.get(result["source"], {})
                summary.clips_this_run += new
                summary.failed_this_run += new and result["row"]["status"] == FAILED
            done = collector.add(result)
            if done is not None:
                units[done] = collector.committed[done]
                summary.sources_done += 1
                if on_source is not None:
                    on_source(done, summary.clips_this_run)
            if on_result is not None:
                on_result(summary)
    summary.seconds = time.perf_counter() - started
    missing = [s for s in todo if s not in collector.committed]
    if missing:
        raise RuntimeError(f"the engine ended before {len(missing)} sources were complete: {missing[:5]}")
    packed_units = [*units.values(), *held.values()] if options.mode == EXTEND else list(units.values())
    described: dict[str, Any] = {}

    def describe(packed: PackResult) -> dict[str, Any]:
        """The identity with what the packed clips recorded: each stage's backend versions and the counts."""
        backends: dict[str, set[str]] = {}
        for stats in packed.stats:
            for stage, names in stats["backends"].items():
                backends.setdefault(stage, set()).update(names)
        statuses = Counter(row["status"] for row in packed.rows)
        described.update(
            identity.document(
                shard_mb=options.shard_mb,
                sources=len(set(packed_units)),
                backends={stage: sorted(names) for stage, names in sorted(backends.items())},
                counts={"clips": dict(sorted(statuses.items())), "samples": dict(sorted(packed.samples.items()))},
            )
        )
        return described

    packed = pack(
        out,
        packed_units,
        test_fraction=options.test_fraction,
        shard_bytes=int(options.shard_mb * 2**20),
        describe=describe,
    )
    summary.shards, summary.samples = packed.shards, packed.samples
    for row in packed.rows:
        summary.status[row["status"]] += 1
        if row["status"] in (REJECTED, FAILED):
            summary.reasons[reason_group(row)] += 1
    write_identity(out, described)
    if options.card:
        write_dataset_card(out)
    return summary
