"""Render-speed benchmark of the synthetic source: CPU seconds of one core to render and encode a clip.

    python -m jobs.bench.render_speed [--clips 24] [--out reports/render_speed.md]

OpenCV and x264 run single-threaded and the time is the process's CPU time (`time.process_time`), so the figure
is "seconds of one core" whatever else the machine is doing. The bar (issue 2): a 48-frame 512x512 clip renders
and encodes in under 1 s of one core.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from curation.synthetic.clip import SynthConfig, SyntheticClip, plan_clip
from curation.video.encode import write_mp4

BAR_SECONDS = 1.0


def measure(clips: int, seed: int) -> list[dict]:
    config = SynthConfig()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(clips):
            start = time.process_time()
            clip = SyntheticClip(plan_clip(seed, index), config)
            setup = time.process_time()
            frames = [frame.rgb for frame in clip.frames()]
            rendered = time.process_time()
            write_mp4(Path(tmp) / "clip.mp4", frames, config.fps, threads=1)
            encoded = time.process_time()
            rows.append(
                {
                    "label": clip.plan.camera_label,
                    "persons": len(clip.persons),
                    "layers": ("parallax " if clip.plan.parallax else "")
                    + ("object" if clip.plan.moving_object else ""),
                    "setup": setup - start,
                    "render": rendered - setup,
                    "encode": encoded - rendered,
                    "total": encoded - start,
                }
            )
    return rows


def report(rows: list[dict], command: str) -> str:
    totals = np.array([r["total"] for r in rows])
    lines = [
        "# Synthetic source: render + encode speed",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"OpenCV {cv2.__version__}; single-threaded; CPU seconds of one core per 48-frame 512x512 clip.",
        "",
        f"- clips measured: {len(rows)}",
        f"- median: {np.median(totals):.3f} s, max: {totals.max():.3f} s "
        f"(bar: under {BAR_SECONDS:.1f} s: {'met' if totals.max() < BAR_SECONDS else 'NOT met'})",
        f"- median split: scene setup {np.median([r['setup'] for r in rows]):.3f} s, "
        f"render {np.median([r['render'] for r in rows]):.3f} s, encode {np.median([r['encode'] for r in rows]):.3f} s",
        "",
        "| clip | camera | persons | layers | setup s | render s | encode s | total s |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, r in enumerate(rows):
        lines.append(
            f"| {i} | {r['label']} | {r['persons']} | {r['layers'] or '-'} | {r['setup']:.3f} | "
            f"{r['render']:.3f} | {r['encode']:.3f} | {r['total']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("reports/render_speed.md"))
    args = parser.parse_args()
    cv2.setNumThreads(1)
    rows = measure(args.clips, args.seed)
    command = f"python -m jobs.bench.render_speed --clips {args.clips} --seed {args.seed}"
    text = report(rows, command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
