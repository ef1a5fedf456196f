"""Curation job throughput: the Ray pipeline with 1 and 2 worker CPUs against the sequential runner, on the same
synthetic corpus, with the default curation settings (or the demo's smaller clips). Writes reports/ray_curate.md.

Bars (issue 5): Ray with 2 workers >= 1.7x the clips per minute of 1 worker; Ray at 1 worker at most 15% slower than
the sequential runner. Job time runs from the first source handed to the engine to the last one committed; packing
is excluded (the same for every engine).

A Ray job also pays a fixed start-up: the cluster, then a worker process per CPU and Ray Data's own actors, each
importing Ray Data on its first task (about 2 CPU-seconds each here). That cost does not grow with the corpus, so it
is measured apart: after `ray.init`, a warm-up job over one source per worker CPU runs on the same cluster, and its
time is reported as start-up. The sequential runner runs with OpenCV on one thread, as each Ray worker does.

What 2 workers can gain depends on the machine as much as on Ray: the same job split into two plain sequential
processes side by side (no Ray, nothing shared but the machine; each takes every other source) is measured too, as a
reference for what 2-way scaling of this workload reaches on this machine without any framework.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from curation.config import config_from_dict
from curation.pipeline.job import JobOptions, run_job, sequential_engine
from curation.synthetic.clip import SynthConfig
from curation.synthetic.corpus import write_corpus
from curation.video.source_lists import resolve_sources
from jobs.bench.report import write_report
from jobs.demo_command import DEMO_CONFIG

SEQUENTIAL, SIDE_BY_SIDE = "sequential (1 process)", "2 sequential processes side by side (no Ray)"
ONE, TWO = "Ray, 1 worker CPU", "Ray, 2 worker CPUs"
SETTINGS: dict[str, dict[str, Any]] = {"default": {}, "demo": DEMO_CONFIG}
OPTIONS = JobOptions(shard_mb=64.0)

Run = tuple[float, int, float]  # job seconds, clips, start-up seconds


def _ray_run(sources: list[str], work: Path, settings: dict[str, Any], cpus: int) -> Run:
    """The job on a fresh local cluster of `cpus` CPUs, after a warm-up job on it."""
    import ray

    from jobs.ray_pipeline import init_ray, ray_engine

    engine = ray_engine(config_from_dict(settings))
    started = time.perf_counter()
    init_ray(None, num_cpus=cpus, object_store_mb=512)
    try:
        run_job(sources[:cpus], work / "warm-up", engine, OPTIONS)
        startup = time.perf_counter() - started
        summary = run_job(sources, work / "job", engine, OPTIONS)
    finally:
        ray.shutdown()
    return summary.seconds, summary.clips_this_run, startup


def _sequential_job(sources: list[str], out: Path, settings: dict[str, Any]) -> tuple[float, int]:
    import cv2

    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # as in a Ray worker: one task, one core
    try:
        summary = run_job(sources, out, sequential_engine(config_from_dict(settings)), OPTIONS)
    finally:
        cv2.setNumThreads(threads)
    return summary.seconds, summary.clips_this_run


def _sequential_run(sources: list[str], work: Path, settings: dict[str, Any]) -> Run:
    seconds, clips = _sequential_job(sources, work / "job", settings)
    return seconds, clips, 0.0


def _side_by_side_run(sources: list[str], work: Path, settings: dict[str, Any]) -> Run:
    """Two processes, each the sequential runner on every other source; the pool is started and warmed first."""
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        started = time.perf_counter()
        warm = [
            pool.submit(_sequential_job, [source], work / f"warm-up-{i}", settings)
            for i, source in enumerate(sources[:2])
        ]
        for future in warm:
            future.result()
        startup = time.perf_counter() - started
        started = time.perf_counter()
        halves = [pool.submit(_sequential_job, sources[i::2], work / f"half-{i}", settings) for i in range(2)]
        clips = sum(future.result()[1] for future in halves)
        return time.perf_counter() - started, clips, startup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=32, help="synthetic source videos")
    parser.add_argument("--size", type=int, default=512, help="synthetic frame size (square)")
    parser.add_argument("--frames", type=int, default=48, help="frames per source")
    parser.add_argument(
        "--settings",
        choices=sorted(SETTINGS),
        default="default",
        help="curation settings: the defaults (48-frame clips at 512) or the demo's (24 at 256)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs of each configuration (the best is kept)")
    args = parser.parse_args()
    settings = SETTINGS[args.settings]
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    runs: dict[str, Callable[[list[str], Path, dict[str, Any]], Run]] = {
        SEQUENTIAL: _sequential_run,
        SIDE_BY_SIDE: _side_by_side_run,
        ONE: lambda s, w, c: _ray_run(s, w, c, 1),
        TWO: lambda s, w, c: _ray_run(s, w, c, 2),
    }
    work = Path(tempfile.mkdtemp(prefix="ray-curate-bench-"))
    best: dict[str, Run] = {}
    all_seconds: dict[str, list[float]] = {name: [] for name in runs}
    try:
        corpus = work / "corpus"
        write_corpus(
            args.n,
            corpus,
            seed=0,
            workers=2,
            config=SynthConfig(width=args.size, height=args.size, frames=args.frames, grid_step=16),
        )
        sources = resolve_sources([corpus])
        for repeat in range(args.repeats):
            # interleaved, so that a slow spell of the shared machine hits every configuration alike
            for index, (name, run) in enumerate(runs.items()):
                run_dir = work / f"run-{repeat}-{index}"
                result = run(sources, run_dir, settings)
                print(f"{name}: {result[1]} clips in {result[0]:.1f} s (start-up {result[2]:.1f} s)")
                all_seconds[name].append(result[0])
                if name not in best or result[0] < best[name][0]:
                    best[name] = result
                shutil.rmtree(run_dir, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per_minute = {name: 60.0 * clips / seconds for name, (seconds, clips, _) in best.items()}
    scaling, plain = per_minute[TWO] / per_minute[ONE], per_minute[SIDE_BY_SIDE] / per_minute[SEQUENTIAL]
    overhead = per_minute[SEQUENTIAL] / per_minute[ONE] - 1.0
    lines = [
        "| run | clips | job seconds (best) | every run (s) | clips/min | start-up seconds |",
        "| --- | ---: | ---: | --- | ---: | ---: |",
    ]
    for name, (seconds, clips, startup) in best.items():
        every = ", ".join(f"{s:.1f}" for s in all_seconds[name])
        lines.append(f"| {name} | {clips} | {seconds:.1f} | {every} | {per_minute[name]:.1f} | {startup:.1f} |")
    body = (
        f"Corpus: {args.n} synthetic sources, {args.size}x{args.size}, {args.frames} frames; curation settings: "
        f"{args.settings} ({settings or 'nothing overridden'}); best of {args.repeats} run(s) each, interleaved. "
        f"Job time excludes packing and start-up: for Ray, a fresh local cluster and a warm-up job over one source "
        f"per worker CPU on it (which starts the worker processes and Ray Data's actors); for the side-by-side "
        f"processes, starting them and a warm-up source each. Every runner has OpenCV on one thread.\n\n"
        + "\n".join(lines)
        + "\n\n"
        f"- 2 workers / 1 worker: {scaling:.2f}x (bar: >= 1.7x): {'met' if scaling >= 1.7 else 'NOT met'}\n"
        f"- for reference, 2 plain processes side by side / 1 process, no Ray: {plain:.2f}x\n"
        f"- Ray at 1 worker vs sequential: {100 * overhead:+.0f}% time (bar: <= +15%): "
        f"{'met' if overhead <= 0.15 else 'NOT met'}\n\n"
        f"The machine's CPUs are shared with other jobs (and with the kernel's own threads), so these figures move "
        f"from run to run. On a 2-core machine the driver, Ray's processes and the kernel share the 2 cores with the "
        f"2 workers, which is why even 2 independent processes stay below 2x.\n"
    )
    print(body)
    print(f"wrote {write_report('ray_curate', 'jobs.bench.ray_curate', body)}")


if __name__ == "__main__":
    main()
