"""The Ray job's operator worker without a cluster: stages built and set up once per worker, sources flat-mapped to
clips and an end marker, later operators passing end markers through, the last one emitting finished results."""

from __future__ import annotations

import pickle
from pathlib import Path

from curation.config import config_from_dict
from curation.pipeline.spec import Operator, plan_operators
from curation.resources import Resources
from curation.shards.manifest_rows import END
from jobs.ray_pipeline import OperatorWorker, pool_size
from tests.helpers.jobs import TINY_CONFIG


def test_pool_size_is_what_the_cluster_holds_and_at_most_one_per_source() -> None:
    cpu_op = Operator(("decode", "pose"), Resources(cpus=1.0, gpus=0.0, memory_gb=1.5))
    assert pool_size(cpu_op, {"CPU": 8.0, "memory": 64 * 2**30}, sources=100) == 8
    assert pool_size(cpu_op, {"CPU": 8.0, "memory": 3 * 2**30}, sources=100) == 2  # memory binds
    assert pool_size(cpu_op, {"CPU": 8.0}, sources=3) == 3
    gpu_op = Operator(("tracks",), Resources(cpus=2.0, gpus=0.5, memory_gb=6.0))
    assert pool_size(gpu_op, {"CPU": 16.0, "GPU": 1.0}, sources=100) == 2
    assert pool_size(gpu_op, {"CPU": 16.0}, sources=100) == 1  # never zero: Ray then waits for a GPU


def test_workers_set_up_once_and_hand_on_records(tiny_corpus: Path) -> None:
    config = config_from_dict(TINY_CONFIG)
    (single,) = plan_operators(config)
    first = OperatorWorker(("decode", "pose"), config, last=False)
    rest = OperatorWorker(single.stages[2:], config, last=True)
    setups = []
    pose = first.stages[1]
    original = pose.setup
    pose.setup = lambda: (setups.append(1), original())[1]  # type: ignore[method-assign]
    sources = sorted(str(p) for p in tiny_corpus.glob("*.mp4"))[:2]
    rows = [row for source in sources for row in first({"source": source})]
    assert len(setups) == 1  # one setup for every clip of every source this worker sees
    payloads = [pickle.loads(row["blob"]) for row in rows]
    ends = [p for p in payloads if p.get("kind") == END]
    clips = [p for p in payloads if p.get("kind") != END]
    assert len(ends) == 2 and all("pose" in clip for clip in clips)
    finished = [pickle.loads(row["blob"]) for clip_row in rows for row in rest(clip_row)]
    assert [p for p in finished if p.get("kind") == END] == ends  # end markers pass through unchanged
    results = [p for p in finished if p.get("kind") != END]
    assert len(results) == len(clips) and all("row" in r for r in results)
