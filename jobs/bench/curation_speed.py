"""Curation speed: per-stage CPU time per clip, and the whole pipeline against decode plus encode alone.

    python -m jobs.bench.curation_speed [--clips 12] [--seed 0] [--out reports/curation_speed.md]

Renders a synthetic corpus (48 frames at 512x512, every camera label), then, in the same process and run, curates
it with the sequential runner on default settings and separately decodes and re-encodes the same clips. Times are
CPU seconds of the process (`time.process_time`) with OpenCV and x264 on one thread, so the ratio compares work
rather than whatever else the machine is doing. Bar (issue 3): pipeline / (decode + encode) <= 3.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import cv2

from curation.config import CurationConfig
from curation.pipeline.sequential import StageTimes, run_sequential
from curation.synthetic.corpus import write_corpus
from curation.video.encode import write_mp4
from curation.video.reader import iter_resampled

BAR_RATIO = 3.0


def decode_encode_seconds(videos: list[Path], fps: float, tmp: Path) -> tuple[float, float]:
    """CPU seconds to decode every clip and to encode its frames again, the floor any curation pays."""
    decode = encode = 0.0
    for video in videos:
        start = time.process_time()
        frames = [f.rgb for f in iter_resampled(video, fps)]
        middle = time.process_time()
        write_mp4(tmp / "again.mp4", frames, fps)
        decode += middle - start
        encode += time.process_time() - middle
    return decode, encode


def measure(clips: int, seed: int, tmp: Path) -> dict:
    written = write_corpus(clips, tmp / "corpus", seed=seed, workers=min(2, os.cpu_count() or 1))
    videos = [Path(w.video) for w in written]
    config = CurationConfig()
    times = StageTimes(clock=time.process_time)
    start = time.process_time()
    clips, failed = 0, []
    # Records are dropped as they come, as the job does (it keeps a clip's encoded members, not its frames): holding
    # every clip's frames would make each new clip's arrays fresh memory, paid for in page faults.
    for record in run_sequential(videos, config, times=times):
        clips += 1
        if record["status"] == "failed":
            failed.append({"key": record["key"], "reason": record["reason"]})
    pipeline = time.process_time() - start
    decode, encode = decode_encode_seconds(videos, written[0].metadata["fps"], tmp)
    return {
        "clips": clips,
        "failed": failed,
        "stages": times.seconds,
        "pipeline": pipeline,
        "decode": decode,
        "encode": encode,
    }


def report(result: dict, command: str) -> str:
    n = result["clips"]
    floor = result["decode"] + result["encode"]
    ratio = result["pipeline"] / floor
    lines = [
        "# Curation speed: stages per clip, pipeline against decode + encode",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"OpenCV {cv2.__version__}; CPU seconds of the process (OpenCV and x264 single-threaded), default settings, "
        f"{n} synthetic clips of 48 frames at 512x512 covering every camera label.",
        "",
        f"- pipeline: {result['pipeline'] / n:.3f} s per clip; decode + encode alone: {floor / n:.3f} s per clip "
        f"(decode {result['decode'] / n:.3f}, encode {result['encode'] / n:.3f})",
        f"- ratio pipeline / (decode + encode): **{ratio:.2f}** (bar: at most {BAR_RATIO:g}: "
        f"{'met' if ratio <= BAR_RATIO else 'NOT met'})",
        f"- failed clips: {len(result['failed'])}",
        "",
        "| stage | s per clip | share |",
        "| --- | --- | --- |",
    ]
    total = sum(result["stages"].values())
    for name, seconds in result["stages"].items():
        lines.append(f"| {name} | {seconds / n:.3f} | {seconds / total:.0%} |")
    lines += [
        "",
        "The decode stage includes hashing the source, probing it and shot detection; the baseline decodes "
        "with the same decoder and encodes with the same settings.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("reports/curation_speed.md"))
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory(prefix="backdrop-speed-") as tmp:
        result = measure(args.clips, args.seed, Path(tmp))
    if result["failed"]:
        raise SystemExit(f"clips failed: {[(r['key'], r['reason']) for r in result['failed']]}")
    text = report(result, f"python -m jobs.bench.curation_speed --clips {args.clips} --seed {args.seed}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
