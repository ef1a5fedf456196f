"""The curation stages as a Ray Data pipeline: a thin wrapper, all logic stays in `curation`.

The stages are grouped into operators by `curation.pipeline.spec.plan_operators`: the source stage and the CPU
stages after it run in one `flat_map` task per source, a GPU stage is a `map` of its own, and each operator asks for
its stages' declared resources (`resources_for` the configuration). The last operator turns each record into its
manifest row and shard members on the worker, so the frames never travel to the driver.

Rows carry the record pickled in one binary column (`blob`): a record holds arrays of varying shapes and nested
dicts that Arrow would otherwise try, and sometimes fail, to convert; the blobs are this job's own, written by its
workers. Stages are plain tasks; each worker process builds a stage once (its `setup()` runs on the first record)
and keeps it for later tasks.

Fault tolerance comes from Ray: a task whose worker or node dies is retried (Ray's default, 3 retries), and lost
blocks are rebuilt from lineage. Retried work may deliver a record twice; the driver's collector dedupes by key.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Iterator
from typing import Any

from curation.config import CurationConfig
from curation.pipeline.record import Record
from curation.pipeline.sequential import CLIP_STAGES
from curation.pipeline.spec import plan_operators
from curation.shards.manifest_rows import END, clip_result, end_marker, unit_of
from curation.stages import DecodeStage

_STAGE_CLASSES = {cls.name: cls for cls in (DecodeStage, *CLIP_STAGES)}
_STAGES: dict[tuple[str, bytes], Any] = {}  # per worker process: built once, reused by later tasks


def _stage(name: str, config_blob: bytes) -> Any:
    key = (name, config_blob)
    if key not in _STAGES:
        import cv2

        cv2.setNumThreads(1)  # one task, one core: Ray schedules by the declared CPUs
        _STAGES[key] = _STAGE_CLASSES[name](pickle.loads(config_blob))
    return _STAGES[key]


def _row(key: str, payload: Any) -> dict[str, Any]:
    return {"key": key, "blob": pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)}


def _through(record: Record, names: tuple[str, ...], config_blob: bytes, last: bool) -> dict[str, Any]:
    for name in names:
        record = _stage(name, config_blob)(record)
    return _row(record["key"], clip_result(record) if last else record)


def run_source(row: dict[str, Any], names: tuple[str, ...], config_blob: bytes, last: bool) -> Iterator[dict[str, Any]]:
    """The first operator: one source in; each clip after the operator's clip stages, then the end marker, out.
    The last operator's rows are finished results (manifest row and members), so frames stay on the worker."""
    source = row["source"]
    count, unit = 0, ""
    for record in _stage(DecodeStage.name, config_blob)(source):
        count += 1
        unit = unit_of(record["source"], record.get("source_id"))
        yield _through(record, names, config_blob, last)
    yield _row(f"{unit}.end", end_marker(source, unit, count))


def run_clip(row: dict[str, Any], names: tuple[str, ...], config_blob: bytes, last: bool) -> dict[str, Any]:
    """A later operator: one clip record through its stages (an end marker passes as it is)."""
    record: Record = pickle.loads(row["blob"])
    if record.get("kind") == END:
        return row
    return _through(record, names, config_blob, last)


def init_ray(address: str | None = None, *, num_cpus: int | None = None, object_store_mb: int | None = None) -> None:
    """Connect to a cluster (`address`, else `RAY_ADDRESS`) or start a local one on the loopback interface."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Under `uv run` (make demo), Ray starts its workers with a relative `.tools/bin/uv run ...` from a copied working
    # directory, where that path does not exist: every worker fails to start (measured: a hung demo). Workers use
    # this interpreter instead, which is the locked environment either way.
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    import ray

    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    quiet = {"log_to_driver": False, "logging_level": "WARNING"}
    if address:
        host = address.removeprefix("ray://").rsplit(":", 1)[0]
        # A loopback cluster (tests, one machine): the driver must say it is on that address too, or Ray looks for
        # a raylet on the machine's public IP.
        local = {"_node_ip_address": host} if host.startswith("127.") else {}
        ray.init(address=address, **local, **quiet)
    else:
        store = None if object_store_mb is None else int(object_store_mb * 2**20)
        ray.init(
            address="local",
            num_cpus=num_cpus,
            object_store_memory=store,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            **quiet,
        )


def ray_engine(config: CurationConfig) -> Any:
    """An engine for `curation.pipeline.job.run_job` that runs the stages on the connected Ray cluster."""

    def run(sources: list[str]) -> Iterator[dict[str, Any]]:
        import ray.data

        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the job shows its own progress
        context.enable_operator_progress_bars = False
        context.issue_detectors_config.detectors = []  # its advice on memory per worker is noise on tiny stages
        # The job prints its own start, progress and summary; Ray Data's lines about the same would only interleave.
        context.print_on_execution_start = False
        logging.getLogger("ray.data._internal.execution.streaming_executor").setLevel(logging.WARNING)
        logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled": by us
        blob = pickle.dumps(config)
        operators = plan_operators(config, CLIP_STAGES)
        # Ray Data reserves a share of the cluster for each operator so that no stage of a multi-operator pipeline
        # starves; with a single operator the reservation only holds CPUs back (seen on a 2-CPU local cluster: one
        # task at a time).
        context.op_resource_reservation_enabled = len(operators) > 1
        ds = ray.data.from_items([{"source": s} for s in sources], override_num_blocks=len(sources))
        for index, operator in enumerate(operators):
            arguments = {
                "names": operator.stages[1:] if index == 0 else operator.stages,
                "config_blob": blob,
                "last": index == len(operators) - 1,
            }
            options = operator.resources.as_ray_options()
            if index == 0:
                ds = ds.flat_map(run_source, fn_kwargs=arguments, **options)
            else:
                ds = ds.map(run_clip, fn_kwargs=arguments, **options)
        for row in ds.iter_rows():
            yield pickle.loads(row["blob"])

    return run
