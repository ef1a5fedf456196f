"""The curation stages as a Ray Data pipeline: a thin wrapper, all logic stays in `curation`.

The operators come from the pipeline spec (`curation.pipeline.spec.plan_operators`): the source stage and the CPU
stages after it run as one operator (a flat map from each source to its clips), a GPU stage is an operator of its own,
and each operator asks for its stages' declared resources (`resources_for` the configuration). The last operator
turns each record into its manifest row and shard members on the worker, so the frames never travel to the driver.

An operator one of whose stages loads a model (a learned backend, a pyiqa network) runs on a pool of Ray actors
(`OperatorWorker`, a callable class): an actor builds its stages once, their `setup()` loads the model once, and the
actor keeps them for every later row. The pool holds at most what the cluster can place of the operator's request
(never more than the sources); with several operators it starts at one actor and grows, since actors hold their
resources for the whole job and fixed pools could leave a later operator none. An operator with nothing to load
runs as plain tasks, building its (cheap) stages per task, so it holds no resources between tasks.

Rows carry the record pickled in one binary column (`blob`): a record holds arrays of varying shapes and nested
dicts that Arrow would otherwise try, and sometimes fail, to convert; the blobs are this job's own, written by its
workers.

Fault tolerance comes from Ray: a task whose worker or node dies is retried (3 retries by default), an actor that
dies is restarted and its rows retried (Ray Data's actor pools restart without limit), and lost blocks are rebuilt
from lineage. Retried work may deliver a record twice; the driver's collector dedupes by key.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
from collections.abc import Iterator
from typing import Any

from curation.config import CurationConfig
from curation.pipeline.job import Engine
from curation.pipeline.spec import STAGE_CLASSES, Operator, plan_operators
from curation.record import Record
from curation.shards.manifest_rows import END, clip_result, end_marker, unit_of
from jobs.ray_start import start_with_retries


def _row(key: str, payload: Any) -> dict[str, Any]:
    return {"key": key, "blob": pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)}


class OperatorWorker:
    """One actor of an operator: its stages, built once, applied to every row it is given.

    The first operator's rows are sources (a flat map to clips and an end marker per source); a later operator's
    rows are clip records. The last operator's output rows are finished results (manifest row and members).
    """

    def __init__(
        self, stages: tuple[str, ...], config: CurationConfig, last: bool, job: dict[str, str] | None = None
    ) -> None:
        import cv2

        cv2.setNumThreads(1)  # one worker, its declared cores: Ray places by the declared CPUs
        self.stages = [STAGE_CLASSES[name](config) for name in stages]
        self.last = last
        self.job = job  # the job identity's stamp, recorded in each kept sample's JSON

    def _through(self, record: Record, stages: list[Any]) -> dict[str, Any]:
        for stage in stages:
            record = stage(record)
        return _row(record["key"], clip_result(record, self.job) if self.last else record)

    def __call__(self, row: dict[str, Any]) -> Iterator[dict[str, Any]]:
        if "source" in row:
            source, clip_stages = row["source"], self.stages[1:]
            count, unit = 0, ""
            for record in self.stages[0](source):
                count += 1
                unit = unit_of(record["source"], record.get("source_id"))
                yield self._through(record, clip_stages)
            yield _row(f"{unit}.end", end_marker(source, unit, count))
            return
        record: Record = pickle.loads(row["blob"])
        if record.get("kind") == END:  # an end marker passes through later operators as it is
            yield row
            return
        yield self._through(record, self.stages)


def run_operator(
    row: dict[str, Any], stages: tuple[str, ...], config: CurationConfig, last: bool, job: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """An operator with no model to load, as a plain task: its stages are built for this row and dropped after."""
    yield from OperatorWorker(stages, config, last, job)(row)


def pool_size(operator: Operator, cluster: dict[str, float], sources: int) -> int:
    """How many actors of `operator` the cluster can hold at once (by CPUs, GPUs and memory), at most one per source
    and at least one."""
    request = operator.resources
    fits = [sources]
    if request.cpus > 0:
        fits.append(math.floor(cluster.get("CPU", 1.0) / request.cpus))
    if request.gpus > 0:
        fits.append(math.floor(cluster.get("GPU", 0.0) / request.gpus))
    if request.memory_gb > 0 and "memory" in cluster:
        fits.append(math.floor(cluster["memory"] / (request.memory_gb * 2**30)))
    return max(1, min(fits))


def init_ray(
    address: str | None = None,
    *,
    num_cpus: int | None = None,
    object_store_mb: int | None = None,
    log_to_driver: bool = False,
    runtime_env: dict[str, Any] | None = None,
    verbose: bool = False,
) -> None:
    """Connect to a cluster (`address`, else `RAY_ADDRESS`) or start a local one on the loopback interface (retried
    on failure; `jobs.ray_start.RayStartError` when it still does not start).

    `log_to_driver`: show what workers print (training's progress lines); curation prints its own progress.
    `verbose`: Ray's own start-up messages and the workers' output on the console too; otherwise they stay in Ray's
    log files (its session folder), off the console."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # Under `uv run` (make demo), Ray starts its workers with a relative `.tools/bin/uv run ...` from a copied working
    # directory, where that path does not exist: every worker fails to start (measured: a hung demo). Workers use
    # this interpreter instead, which is the locked environment either way.
    os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
    import ray

    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or None
    quiet = {"log_to_driver": log_to_driver or verbose, "logging_level": "INFO" if verbose else "WARNING"}
    if not verbose:
        # Ray warns on every start that token authentication is on (or off); it is Ray's default, not news.
        logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(logging.ERROR)
    if address:
        host = address.removeprefix("ray://").rsplit(":", 1)[0]
        # A loopback cluster (tests, one machine): the driver must say it is on that address too, or Ray looks for
        # a raylet on the machine's public IP.
        local = {"_node_ip_address": host} if host.startswith("127.") else {}
        ray.init(address=address, runtime_env=runtime_env, **local, **quiet)
    else:
        store = None if object_store_mb is None else int(object_store_mb * 2**20)

        def start() -> None:
            ray.init(
                address="local",
                num_cpus=num_cpus,
                object_store_memory=store,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                runtime_env=runtime_env,
                **quiet,
            )

        start_with_retries(start, ray.shutdown)  # a loaded machine can be slow to bring Ray up


def ray_engine(config: CurationConfig) -> Engine:
    """An engine for `curation.pipeline.job.run_job` that runs the stages on the connected Ray cluster."""

    def run(sources: list[str], job: dict[str, str]) -> Iterator[dict[str, Any]]:
        import ray.data

        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the job shows its own progress
        context.enable_operator_progress_bars = False
        context.issue_detectors_config.detectors = []  # its advice on memory per worker is noise on tiny stages
        # The job prints its own start, progress and summary; Ray Data's lines about the same would only interleave.
        context.print_on_execution_start = False
        logging.getLogger("ray.data._internal.execution.streaming_executor").setLevel(logging.WARNING)
        logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled": by us
        operators = plan_operators(config)
        # Ray Data reserves a share of the cluster for each operator so that no stage of a multi-operator pipeline
        # starves; with a single operator the reservation only holds CPUs back (seen on a 2-CPU local cluster: one
        # task at a time).
        context.op_resource_reservation_enabled = len(operators) > 1
        cluster = ray.cluster_resources()
        ds = ray.data.from_items([{"source": s} for s in sources], override_num_blocks=len(sources))
        for index, operator in enumerate(operators):
            last = index == len(operators) - 1
            arguments = {"stages": operator.stages, "config": config, "last": last, "job": job if last else None}
            options = operator.resources.as_ray_options()
            if operator.loads_model:
                size = pool_size(operator, cluster, len(sources))
                # One source (block) in flight per actor: a source is seconds of work, so a queue behind a busy
                # actor would leave another idle at the end of the job.
                bounds = {"min_size": 1, "max_size": size} if len(operators) > 1 else {"size": size}
                pool = ray.data.ActorPoolStrategy(**bounds, max_tasks_in_flight_per_actor=1)
                ds = ds.flat_map(OperatorWorker, fn_constructor_kwargs=arguments, compute=pool, **options)
            else:
                ds = ds.flat_map(run_operator, fn_kwargs=arguments, **options)
        for row in ds.iter_rows():
            yield pickle.loads(row["blob"])

    return Engine("ray", config, run)
