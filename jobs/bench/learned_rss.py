"""Peak memory of curation with every learned backend enabled, along one long video: does it grow with length?

    python -m jobs.bench.learned_rss [--minutes 5] [--fps 2] [--size 96] [--out reports/learned_rss.md]

The source is a generated video (a textured background panning, one bright figure walking across) of `--minutes`
minutes. All clip stages run on the learned backends with stand-in weights (tiny ONNX models for DWPose, SAM2 tiny
with random weights at a small image size, the CoTracker stand-in hub), through the sequential runner, which
streams clips. The process's peak resident set size (`ru_maxrss`) is read when the clips pass 1, 2.5 and 5 minutes
of source time (the checkpoints scale with `--minutes`). Stand-in weights mean throughput here says nothing about
real models; the memory trend is what is measured.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from curation.backends.stand_ins import stand_in_settings
from curation.config import config_from_dict
from curation.pipeline.sequential import run_sequential
from curation.video.encode import write_mp4


def make_video(path: Path, minutes: float, fps: float, size: int) -> Path:
    """A panning noise texture with a walking bright rectangle (made in a child process: its memory must not count
    in the measured process's peak)."""
    rng = np.random.default_rng(0)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (size * 2, size * 8, 3), np.uint8), (5, 5), 0)
    total = int(minutes * 60 * fps)
    frames = np.empty((total, size, size, 3), np.uint8)
    for t in range(total):
        x = (t * 2) % (texture.shape[1] - size)
        frame = texture[size // 2 : size // 2 + size, x : x + size].copy()
        px = int((t * 3) % size)
        cv2.rectangle(frame, (px, size // 4), (min(size - 1, px + size // 6), size - size // 8), (250, 250, 250), -1)
        frames[t] = frame
    write_mp4(path, frames, fps)
    return path


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--fps", type=float, default=2.0)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--sam2-image-size", type=int, default=128)
    parser.add_argument("--out", type=Path, default=Path("reports/learned_rss.md"))
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="backdrop-rss-") as tmp:
        work = Path(tmp)
        settings = stand_in_settings(work, sam2_image_size=args.sam2_image_size)
        video = work / "long.mp4"
        child = multiprocessing.get_context("fork").Process(
            target=make_video, args=(video, args.minutes, args.fps, args.size)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"making the source video failed (exit code {child.exitcode})")
        clips = {"frames": 8, "short_side": args.size, "fps": args.fps, "min_shot_frames": 4}
        config = config_from_dict({"clips": clips, **settings})
        marks = [args.minutes * 60 * f for f in (0.2, 0.5, 1.0)]
        rows: list[tuple[float, int, float, float]] = []
        start, clips, ok = time.perf_counter(), 0, 0
        for record in run_sequential([video], config):
            clips += 1
            ok += record["status"] == "ok"
            end = float(record.get("end_s") or 0.0)
            while marks and end >= marks[0] - 1e-6:
                rows.append((marks.pop(0), clips, peak_rss_mb(), time.perf_counter() - start))
                print(f"{rows[-1][0]:.0f} s of source: {clips} clips, peak RSS {rows[-1][2]:.0f} MiB", flush=True)
        if marks:  # the last clip may end just before the video's end
            rows.append((marks[-1], clips, peak_rss_mb(), time.perf_counter() - start))
    command = "python -m jobs.bench.learned_rss " + " ".join(sys.argv[1:] if argv is None else argv)
    lines = [
        "# Peak memory of curation with every learned backend, along one long video",
        "",
        f"Command: `{command.strip()}`",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {platform.system()}, CPU only (no GPU in this "
        f"session), torch threads 1. Source: {args.minutes:g} min generated video, {args.fps:g} fps, "
        f"{args.size}x{args.size}; clips of 8 frames; DWPose tiny ONNX stand-ins, SAM2.1 tiny with random weights at "
        f"image size {args.sam2_image_size} (window 4), CoTracker stand-in hub (offline, window 6). {ok} of {clips} "
        "clips ok.",
        "",
        "| source time reached (s) | clips done | peak RSS (MiB) | wall time (s) |",
        "| ---: | ---: | ---: | ---: |",
        *(f"| {m:.0f} | {c} | {r:.0f} | {w:.0f} |" for m, c, r, w in rows),
        "",
        "Peak RSS is `ru_maxrss` of the process (model weights, the interpreter and libraries included). "
        "Throughput on a GPU was not measured: there was no GPU in this session.",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
