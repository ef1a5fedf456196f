"""Curation memory: peak resident memory while curating one long 720p video with the sequential runner.

    python -m jobs.bench.curation_memory [--minutes 10] [--size 1280x720] [--work DIR] [--out FILE.md]

The long video is made from synthetic 720p clips played one after another (a cut between each) until it lasts
`--minutes`, with a pose sidecar (`NAME.pose.npy`) built from their ground-truth keypoints; it is kept in `--work`
so a second run skips making it. A thread samples the process's resident set (VmRSS) every half second while the
runner curates the video on default settings; the report gives the peak (`ru_maxrss`) and the resident set at
points through the video. Bar (issue 3): peak RSS under 1.5 GiB.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import resource
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from curation.config import CurationConfig
from curation.pipeline.sequential import StageTimes, run_sequential
from curation.synthetic.clip import SynthConfig
from curation.synthetic.corpus import read_ground_truth, write_corpus
from curation.video.encode import write_mp4
from curation.video.reader import read_video

BAR_GIB = 1.5
DISTINCT_CLIPS = 12  # one per camera recipe


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def make_long_video(work: Path, minutes: float, size: tuple[int, int], fps: float = 24.0) -> Path:
    """A `minutes`-long video of synthetic clips back to back, and its pose sidecar; reused when present."""
    video = work / f"long-{minutes:g}min-{size[0]}x{size[1]}.mp4"
    sidecar = video.with_suffix(".pose.npy")
    if video.is_file() and sidecar.is_file():
        return video
    config = SynthConfig(width=size[0], height=size[1], frames=48, fps=fps)
    clips = write_corpus(DISTINCT_CLIPS, work / "clips", seed=0, config=config, workers=min(2, os.cpu_count() or 1))
    total = round(minutes * 60 * fps)
    order = [clips[i % len(clips)] for i in range(-(-total // config.frames))]
    persons = max(read_ground_truth(Path(c.video).with_suffix(".gt.npz"))["keypoints"].shape[1] for c in clips)
    keypoints = np.zeros((total, persons, 133, 3), np.float32)
    position = 0
    for clip in order:
        points = read_ground_truth(Path(clip.video).with_suffix(".gt.npz"))["keypoints"]
        take = min(len(points), total - position)
        keypoints[position : position + take, : points.shape[1]] = points[:take]
        position += take

    def frames() -> Iterator[np.ndarray]:
        emitted = 0
        for clip in order:
            for frame in read_video(clip.video):
                if emitted == total:
                    return
                emitted += 1
                yield frame

    write_mp4(video, frames(), fps, threads=0)
    np.save(sidecar, keypoints, allow_pickle=False)
    return video


def measure(video: Path) -> dict:
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.perf_counter(), rss_bytes()))
            done.wait(0.5)

    progress: list[tuple[float, float]] = []  # (wall time, video seconds curated)
    sampler = threading.Thread(target=sample, daemon=True)
    start_rss = rss_bytes()
    started = time.perf_counter()
    sampler.start()
    statuses: dict[str, int] = {}
    times = StageTimes()
    for record in run_sequential([video], CurationConfig(), times=times):
        statuses[record["status"]] = statuses.get(record["status"], 0) + 1
        progress.append((time.perf_counter(), record.get("end_s", 0.0)))
        if len(progress) % 25 == 0:
            print(
                f"{len(progress)} clips, {progress[-1][1]:.0f} s of video, RSS {rss_bytes() / 2**30:.2f} GiB",
                flush=True,
            )
    done.set()
    sampler.join()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {
        "samples": samples,
        "progress": progress,
        "peak": peak,
        "start_rss": start_rss,
        "statuses": statuses,
        "wall": time.perf_counter() - started,
        "started": started,
        "stages": times.seconds,
    }


def rss_at(result: dict, video_seconds: float) -> float:
    """Resident set (GiB) sampled when the clip reaching `video_seconds` of the video was finished."""
    when = next((t for t, s in result["progress"] if s >= video_seconds), result["progress"][-1][0])
    before = [rss for t, rss in result["samples"] if t <= when]
    return max(before or [0]) / 2**30


def report(result: dict, video: Path, minutes: float, size: tuple[int, int], command: str) -> str:
    peak = result["peak"] / 2**30
    marks = [m for m in (1, 2.5, 5, 7.5, 10) if m <= minutes]
    lines = [
        "# Curation memory: one long video, sequential runner",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"OpenCV {cv2.__version__}. Video: {video.name}, {minutes:g} minutes at {size[0]}x{size[1]}, 24 fps "
        f"(synthetic clips back to back), curated on default settings (clips of 48 frames, short side 512).",
        "",
        f"- peak RSS (ru_maxrss): **{peak:.2f} GiB** (bar: under {BAR_GIB} GiB: "
        f"{'met' if peak < BAR_GIB else 'NOT met'}); RSS before curating: {result['start_rss'] / 2**30:.2f} GiB",
        f"- records: {result['statuses']}; wall time {result['wall'] / 60:.1f} min",
        "",
        "| video curated (min) | highest RSS so far (GiB) |",
        "| --- | --- |",
    ]
    lines += [f"| {m:g} | {rss_at(result, m * 60):.2f} |" for m in marks]
    lines += ["", "Wall seconds per stage: " + ", ".join(f"{k} {v:.0f}" for k, v in result["stages"].items())]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--work", type=Path, default=Path("out/bench-memory"))
    parser.add_argument("--out", type=Path, default=Path("reports/curation_memory.md"))
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    cv2.setNumThreads(1)
    args.work.mkdir(parents=True, exist_ok=True)
    # The video is made in a child process, so this process's peak measures curation alone.
    maker = multiprocessing.get_context("spawn").Process(target=make_long_video, args=(args.work, args.minutes, size))
    maker.start()
    maker.join()
    if maker.exitcode != 0:
        raise SystemExit(f"making the long video failed (exit code {maker.exitcode})")
    video = make_long_video(args.work, args.minutes, size)  # type: ignore[arg-type]  # made above: only found
    result = measure(video)
    command = f"python -m jobs.bench.curation_memory --minutes {args.minutes:g} --size {args.size}"
    text = report(result, video, args.minutes, size, command)  # type: ignore[arg-type]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
