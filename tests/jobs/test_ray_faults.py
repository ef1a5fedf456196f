"""The Ray pipeline survives a killed worker and a killed node, and a killed driver resumes to the same shards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from curation.config import config_from_dict
from curation.pipeline.job import run_job
from curation.video.source_lists import resolve_sources
from tests.helpers.jobs import OPTIONS, TINY_CONFIG, shard_contents

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

# Loopback only, but not 127.0.0.1: Ray rewrites that address to the machine's public IP when a driver connects.
NODE = {"num_cpus": 1, "object_store_memory": 100 * 2**20, "node_ip_address": "127.0.0.2"}


@pytest.fixture
def cluster():
    cluster = Cluster(initialize_head=True, connect=False, head_node_args={**NODE, "include_dashboard": False})
    yield cluster
    if ray.is_initialized():
        ray.shutdown()
    cluster.shutdown()


def _workers_of(node) -> list[psutil.Process]:
    """Ray worker processes started by this node's raylet (never another cluster's on this machine)."""
    raylet = psutil.Process(node.all_processes["raylet"][0].process.pid)
    return [
        p
        for p in raylet.children(recursive=True)
        if p.name().startswith("ray::") or "default_worker.py" in " ".join(p.cmdline())
    ]


@pytest.mark.slow
def test_worker_and_node_killed_mid_job(cluster, tiny_corpus: Path, reference_run: Path, tmp_path: Path) -> None:
    from jobs.ray_pipeline import ray_engine

    second = cluster.add_node(**NODE)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, _node_ip_address="127.0.0.2", log_to_driver=False)
    events: list[str] = []

    def on_source(_source: str, _clips: int) -> None:
        if not events:  # first source committed: kill a busy worker process (any, if none is busy)
            workers = _workers_of(second) + _workers_of(cluster.head_node)
            busy = [p for p in workers if "IDLE" not in p.name()] or workers
            busy[0].kill()
            events.append(f"worker {busy[0].pid}")
        elif len(events) == 1:  # second source committed: the second node goes away without warning
            cluster.remove_node(second, allow_graceful=False)
            events.append("node")

    out = tmp_path / "out"
    summary = run_job(
        resolve_sources([tiny_corpus]), out, ray_engine(config_from_dict(TINY_CONFIG)), OPTIONS, on_source=on_source
    )
    assert len(events) == 2, f"the job ended before both kills: {events}"
    assert summary.sources == 8
    manifest = pd.read_parquet(out / "manifest.parquet")
    assert manifest["key"].is_unique
    assert shard_contents(out) == shard_contents(reference_run)  # complete, duplicate-free, and the same bytes


def _ledger_lines(out: Path) -> int:
    ledger = out / "work" / "ledger.jsonl"
    return ledger.read_text().count("\n") if ledger.exists() else 0  # complete lines only


@pytest.mark.slow
def test_driver_killed_then_resumed(
    cluster, tiny_corpus: Path, tiny_config_file: Path, reference_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "jobs.cli",
        "curate",
        str(tiny_corpus),
        "--out",
        str(out),
        "--config",
        str(tiny_config_file),
        "--address",
        cluster.address,
        "--test-fraction",
        str(OPTIONS.test_fraction),
        "--shard-mb",
        str(OPTIONS.shard_mb),
    ]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while _ledger_lines(out) < 2 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first.poll() is None, "the first run ended before it could be killed"
    first.send_signal(signal.SIGKILL)
    first.wait()
    done_before = _ledger_lines(out)
    assert 2 <= done_before < 8
    assert not list((out / "shards").glob("*.tar")) if (out / "shards").exists() else True
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"({done_before} finished earlier, skipped)" in " ".join(second.stdout.split())
    assert shard_contents(out) == shard_contents(reference_run)
    for shard in (reference_run / "shards").glob("*.tar"):
        assert (out / "shards" / shard.name).read_bytes() == shard.read_bytes()
    assert not [p for p in out.rglob("*.partial")]
