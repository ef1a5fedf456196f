"""Curation job throughput: the Ray pipeline with 1 and 2 worker CPUs, and the sequential runner, on the same
synthetic corpus with the demo's settings. Writes reports/ray_curate.md.

Bars (issue 5): Ray with 2 workers >= 1.7x the clips per minute of 1 worker; Ray at 1 worker at most 15% slower than
the sequential runner. Times are the job's own (from the first source handed to the engine to the last committed),
excluding Ray's start-up, which is reported apart; packing is excluded too (the same for every engine).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from curation.config import config_from_dict
from curation.curate import JobOptions, JobSummary, run_job, sequential_engine
from curation.sources import resolve_sources
from curation.synthetic.clip import SynthConfig
from curation.synthetic.corpus import write_corpus
from jobs.bench.report import write_report
from jobs.demo_command import DEMO_CONFIG


def _ray_run(sources: list[str], out: Path, cpus: int) -> tuple[JobSummary, float]:
    import ray

    from jobs.ray_pipeline import init_ray, ray_engine

    started = time.perf_counter()
    init_ray(None, num_cpus=cpus, object_store_mb=512)
    startup = time.perf_counter() - started
    try:
        summary = run_job(sources, out, ray_engine(config_from_dict(DEMO_CONFIG)), JobOptions(shard_mb=64.0))
    finally:
        ray.shutdown()
    return summary, startup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=12, help="synthetic source videos")
    parser.add_argument("--size", type=int, default=256, help="synthetic frame size (square)")
    parser.add_argument("--frames", type=int, default=48, help="frames per source (two 24-frame clips each)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of each configuration (the best is kept)")
    args = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    work = Path(tempfile.mkdtemp(prefix="ray-curate-bench-"))
    try:
        corpus = work / "corpus"
        write_corpus(args.n, corpus, seed=0, workers=2,
                     config=SynthConfig(width=args.size, height=args.size, frames=args.frames, grid_step=16))
        sources = resolve_sources([corpus])
        rows: dict[str, tuple[float, int, float]] = {}  # name -> (seconds, clips, start-up seconds)
        for repeat in range(args.repeats):
            runs = {"sequential (1 process)": None, "Ray, 1 worker CPU": 1, "Ray, 2 worker CPUs": 2}
            for name, cpus in runs.items():
                out = work / f"out-{repeat}-{cpus or 0}"
                if cpus is None:
                    summary, startup = run_job(sources, out, sequential_engine(config_from_dict(DEMO_CONFIG)),
                                               JobOptions(shard_mb=64.0)), 0.0
                else:
                    summary, startup = _ray_run(sources, out, cpus)
                print(f"{name}: {summary.clips_this_run} clips in {summary.seconds:.1f} s (start-up {startup:.1f} s)")
                best = rows.get(name)
                if best is None or summary.seconds < best[0]:
                    rows[name] = (summary.seconds, summary.clips_this_run, startup)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    per_minute = {name: 60.0 * clips / seconds for name, (seconds, clips, _) in rows.items()}
    seq, one, two = (per_minute[k] for k in ("sequential (1 process)", "Ray, 1 worker CPU", "Ray, 2 worker CPUs"))
    scaling, overhead = two / one, seq / one - 1.0
    lines = ["| run | clips | seconds | clips/min | Ray start-up (s) |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, (seconds, clips, startup) in rows.items():
        lines.append(f"| {name} | {clips} | {seconds:.1f} | {per_minute[name]:.1f} | {startup:.1f} |")
    body = (
        f"Corpus: {args.n} synthetic sources, {args.size}x{args.size}, {args.frames} frames; curation settings: the "
        f"demo's ({DEMO_CONFIG}); best of {args.repeats} run(s) each; job time without Ray start-up or packing.\n\n"
        + "\n".join(lines) + "\n\n"
        f"- 2 workers / 1 worker: {scaling:.2f}x (bar: >= 1.7x): {'met' if scaling >= 1.7 else 'NOT met'}\n"
        f"- Ray at 1 worker vs sequential: {100 * overhead:+.0f}% time (bar: <= +15%): "
        f"{'met' if overhead <= 0.15 else 'NOT met'}\n\n"
        f"The machine's CPUs are shared with other jobs, so these figures move from run to run; 2-worker scaling "
        f"cannot exceed the cores actually free while it runs.\n"
    )
    print(body)
    print(f"wrote {write_report('ray_curate', 'jobs.bench.ray_curate', body)}")


if __name__ == "__main__":
    main()
