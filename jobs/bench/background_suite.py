"""The background-motion suite's reference rows on a synthetic corpus: does the suite discriminate?

    python -m jobs.bench.background_suite [--clips 24] [--seed 0] [--shift-px 32] [--work out/bench/background_suite]

Renders (or reuses) a corpus of synthetic clips at the synthetic source's defaults (48 frames, 512x512; clip i uses
camera recipe i mod 12, so 24 clips cover every label twice), writes its three reference rows (ground truth, frozen
background, shifted background; `benchmark.reference_rows`), scores each with the suite under protocol bd16 and
writes reports/background_suite.md: the per-row figures, the frozen / ground-truth ratios and the shifted row's
camera error against the injected offset.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from benchmark.metrics import BACKGROUND_METRICS
from benchmark.metrics.base import ResultRow
from benchmark.protocol import get_protocol
from benchmark.reference_rows import (
    REFERENCE_ROWS,
    injected_translation_error,
    score_reference_rows,
    write_reference_rows,
)
from benchmark.scoring import write_results
from curation.synthetic.clip import SynthConfig
from curation.synthetic.corpus import write_corpus
from jobs.bench.report import write_report

UNITS = {
    "bg-track": "px",
    "bg-camera": "px",
    "bg-camera-translation": "px",
    "bg-camera-rotation": "deg",
    "bg-camera-scale": "%",
    "bg-camera-label": "fraction",
    "bg-epipolar": "px",
    "bg-dynamics": "ratio",
}


def _mean(values: dict[str, float], keys: list[str]) -> float:
    present = [values[k] for k in keys if k in values]
    return float(np.mean(present)) if present else float("nan")


def _fmt(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.3f}"


def build_report(
    results: dict[str, list[ResultRow]],
    labels: dict[str, str],
    frames: int,
    shift_px: float,
    timing: dict[str, float],
    args: argparse.Namespace,
) -> str:
    per = {row: {r.metric: r.to_dict() for r in rows} for row, rows in results.items()}
    keys = sorted(labels)
    moving = [k for k in keys if labels[k] != "static"]
    injected = injected_translation_error(frames, shift_px)
    gt, frozen, shifted = (per[row] for row in REFERENCE_ROWS)

    lines = [
        f"# Background-motion suite: reference rows on {len(keys)} synthetic clips",
        "",
        f"Corpus: `backdrop synth`-style clips, seed {args.seed}, {args.size}x{args.size}, {frames} frames at 24 fps, "
        f"{len(keys)} clips ({len(moving)} with a moving camera), labels: "
        f"{', '.join(sorted(set(labels.values())))}. Protocol bd16 (native resolution). Shifted row: translation "
        f"growing linearly to {shift_px:g} px at the last frame, so the injected camera error (mean over frames "
        f"t >= 1 of |offset_t|) is {injected:.3f} px. Wall time on this machine: rendering and encoding the rows "
        f"{timing['rows']:.0f} s, scoring the three rows {timing['score']:.0f} s.",
        "",
        "## Rows (mean over videos; in brackets: over the moving-camera clips)",
        "",
        "| metric | unit | better | " + " | ".join(REFERENCE_ROWS) + " |",
        "|---|---|---|" + "---|" * len(REFERENCE_ROWS),
    ]
    for metric in BACKGROUND_METRICS:
        better = {True: "higher", False: "lower", None: "1 is ideal"}[gt[metric]["higher_is_better"]]
        cells = [
            f"{_fmt(per[row][metric]['value'])} ({_fmt(_mean(per[row][metric]['per_video'], moving))})"
            for row in REFERENCE_ROWS
        ]
        lines.append(f"| {metric} | {UNITS[metric]} | {better} | " + " | ".join(cells) + " |")
    route = gt["bg-epipolar"]["epipolar_route"]
    lines += [
        "",
        f"`bg-epipolar` route on this corpus: {route} (every synthetic background is a plane, so the "
        "ground truth's fundamental matrix is degenerate and each frame falls back to the homography transfer "
        "error, which then equals `bg-track`'s definition).",
        "",
    ]

    lines += ["## Ratios", "", "| what | value | bar |", "|---|---|---|"]
    for metric in ("bg-track", "bg-camera"):
        agg = _mean(frozen[metric]["per_video"], moving) / _mean(gt[metric]["per_video"], moving)
        per_clip = min(frozen[metric]["per_video"][k] / gt[metric]["per_video"][k] for k in moving)
        lines.append(
            f"| frozen / ground truth, `{metric}`, moving clips (means) | {agg:.1f}x | >= 10x: "
            f"{'met' if agg >= 10 else 'NOT met'} |"
        )
        lines.append(f"| frozen / ground truth, `{metric}`, smallest per-clip ratio | {per_clip:.1f}x | |")
    for metric in ("bg-camera-translation", "bg-camera"):
        values = np.array(list(shifted[metric]["per_video"].values()))
        worst = float(np.max(np.abs(values - injected)) / injected)
        lines.append(
            f"| shifted `{metric}` / injected {injected:.3f} px: mean, worst clip deviation | "
            f"{values.mean() / injected:.3f}, {100 * worst:.1f}% | within 10%: "
            f"{'met' if worst <= 0.1 else 'NOT met'} |"
        )
    lines += [
        "",
        "## Per clip",
        "",
        "| clip | camera | GT track px | GT camera px | frozen track px | frozen camera px | frozen/GT track |"
        " shifted translation px | shifted dev. | GT dynamics | frozen dynamics |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for k in keys:
        g, f = gt["bg-track"]["per_video"][k], frozen["bg-track"]["per_video"][k]
        s = shifted["bg-camera-translation"]["per_video"][k]
        lines.append(
            f"| {k} | {labels[k]} | {g:.3f} | {gt['bg-camera']['per_video'][k]:.3f} | {f:.2f} | "
            f"{frozen['bg-camera']['per_video'][k]:.2f} | {f / g:.1f}x | {s:.3f} | "
            f"{100 * (s - injected) / injected:+.1f}% | {_fmt(gt['bg-dynamics']['per_video'].get(k, np.nan))} | "
            f"{_fmt(frozen['bg-dynamics']['per_video'].get(k, np.nan))} |"
        )
    lines += [
        "",
        "Dynamics is n/a where the ground truth's median background displacement is under 1 px (static "
        "camera). Results tables: " + ", ".join(f"`{args.work}/{row}.json`" for row in REFERENCE_ROWS) + ".",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=SynthConfig.width, help="square clip side (pixels)")
    parser.add_argument("--frames", type=int, default=SynthConfig.frames)
    parser.add_argument("--shift-px", type=float, default=32.0)
    parser.add_argument(
        "--work",
        type=Path,
        default=Path("out/bench/background_suite"),
        help="corpus, row videos and result tables (kept; a finished corpus is reused)",
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)  # stable timings and results on shared machines

    config = SynthConfig(width=args.size, height=args.size, frames=args.frames)
    # One folder per corpus, so a run never scores clips left by a run with other settings.
    args.work = args.work / f"s{args.seed}-{args.clips}x{args.frames}-{args.size}"
    corpus = args.work / "corpus"
    written = write_corpus(args.clips, corpus, seed=args.seed, config=config)
    labels = {w.name: w.metadata["camera_label"] for w in written}
    start = time.perf_counter()
    folders = write_reference_rows(corpus, args.work / "rows", shift_px=args.shift_px)
    timing = {"rows": time.perf_counter() - start}
    start = time.perf_counter()
    results = score_reference_rows(folders, corpus, get_protocol("bd16"), log=lambda line: print(line, flush=True))
    timing["score"] = time.perf_counter() - start
    for row, rows in results.items():
        write_results(rows, args.work / row)
    body = build_report(results, labels, args.frames, args.shift_px, timing, args)
    (args.work / "summary.json").write_text(json.dumps({"timing": timing, "labels": labels}, indent=2) + "\n")
    print(f"wrote {write_report('background_suite', 'jobs.bench.background_suite', body)}")


if __name__ == "__main__":
    main()
