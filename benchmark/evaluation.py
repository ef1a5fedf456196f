"""Scoring against a benchmark: a folder of videos (a model's, an outside model's, a training-free row's) matched
to the benchmark's clips by key, every metric of its protocol, rows of the one row type; and the benchmark's
definition, whose training-free rows calibrate it (noise floor and separation: a protocol under which the background
suite cannot tell a frozen background from the truth is refused).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.definition import Benchmark, load_benchmark, write_benchmark_clips
from benchmark.metrics.base import ResultRow
from benchmark.protocol import Protocol
from benchmark.scoring import Pair, ScoreOptions, score_pairs, write_results
from benchmark.training_free import TRAINING_FREE_ROWS, expected_shift_error, write_training_free_rows

__all__ = [
    "SEPARATION_BAR",
    "CalibrationError",
    "calibrate",
    "define_benchmark",
    "match_videos",
    "score_videos",
]

#: A protocol must put the frozen-background row at least this many times the ground truth's background error
#: (moving-camera clips), and the truth's own camera label must agree at least this often; else it is refused.
SEPARATION_BAR = 10.0
LABEL_AGREEMENT_BAR = 0.9
SHIFT_TOLERANCE = 0.10
VIDEO_SUFFIXES = (".mp4", ".npy")


class CalibrationError(ValueError):
    """The benchmark's protocol cannot separate the training-free rows: its numbers would be noise."""


def match_videos(bench: Benchmark, videos: str | os.PathLike) -> list[Pair]:
    """One video per benchmark clip in folder `videos`: `KEY.mp4` or `KEY.npy`, else the one file whose name starts
    with `KEY_` (the Moore-AnimateAnyone scripts name outputs `{ref}_{pose}_...mp4`). Every clip must have one."""
    folder = Path(videos)
    if not folder.is_dir():
        raise FileNotFoundError(f"videos folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix in VIDEO_SUFFIXES and p.is_file())
    pairs, missing, ambiguous = [], [], []
    for key in bench.keys:
        exact = [p for p in files if p.stem == key]
        found = exact or [p for p in files if p.stem.startswith(f"{key}_")]
        if len(found) == 1:
            pairs.append(Pair(key, found[0], bench.clip_video(key)))
        elif not found:
            missing.append(key)
        else:
            ambiguous.append(f"{key}: {[p.name for p in found]}")
    if missing or ambiguous:
        raise ValueError(
            f"{folder}: {len(missing)} benchmark clip(s) without a video {missing[:5]}"
            + (f"; several videos for {ambiguous[:3]}" if ambiguous else "")
            + " (name each KEY.mp4 or KEY.npy; `backdrop bench export` lists the keys)"
        )
    return pairs


def score_videos(
    bench: Benchmark | str | os.PathLike,
    videos: str | os.PathLike,
    *,
    model: str,
    kind: str = "model",
    weights_dir: Path | None = None,
    weights: Mapping[str, Path] | None = None,
    lpips_trunk: Path | None = None,
    device: str = "cpu",
    allow_constant: bool = False,
    panels: int | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> list[ResultRow]:
    """Rows for the videos in `videos` under the benchmark's protocol, every metric it scores. Reference statistics
    of the Fréchet metrics come from (or, the first time, go to) the benchmark's `stats/`."""
    bench = bench if isinstance(bench, Benchmark) else load_benchmark(bench)
    protocol = bench.protocol
    options = ScoreOptions(
        protocol=protocol,
        metrics=protocol.scored_metrics,
        weights_dir=weights_dir,
        weights=dict(weights or {}),
        lpips_trunk=lpips_trunk,
        device=device,
        ref_stats_dir=bench.stats_dir,
        dataset=bench.name,
        allow_constant=allow_constant,
        model=model,
        benchmark=bench.name,
        pred_panels=panels,
    )
    pairs = match_videos(bench, videos)
    rows = score_pairs(
        pairs,
        options,
        truth_for=lambda pair, _ref: bench.truth(pair.key).background(),
        truth_files=[bench.truth_file(pair.key) for pair in pairs],
        context={"pred_dir": str(Path(videos).resolve()), "benchmark_dir": str(bench.path.resolve())},
        log=log,
    )
    labels = {key: bench.clip(key)["camera_label"] for key in bench.keys}
    return [row.with_extras(row_kind=kind, clip_camera_labels=labels) for row in rows]


def _moving_mean_ratio(rows: Mapping[str, Mapping[str, ResultRow]], metric: str, moving: Sequence[str]) -> float:
    gt, frozen = rows["ground-truth"][metric].per_video, rows["frozen-background"][metric].per_video
    return float(np.mean([frozen[k] for k in moving]) / max(np.mean([gt[k] for k in moving]), 1e-12))


def calibrate(bench: Benchmark, rows: Mapping[str, Sequence[ResultRow]], shift_px: float) -> dict[str, Any]:
    """The protocol's noise floor and separation on this benchmark, from its training-free rows; `passed` says
    whether the background suite's numbers mean something under it."""
    by_row = {row: {r.metric: r for r in rs} for row, rs in rows.items()}
    gt = by_row["ground-truth"]
    if "bg-track" not in gt:
        return {"background": False, "passed": True, "note": "the protocol scores no background metric"}
    protocol = bench.protocol
    moving = [k for k in bench.keys if (bench.clip(k)["camera_label"] or "static") != "static"]
    floor = {m: gt[m].value for m in ("bg-track", "bg-camera", "bg-first-frame") if m in gt}
    out: dict[str, Any] = {
        "background": True,
        "pixel_resolution": protocol.pixel_resolution,
        "moving_clips": len(moving),
        "noise_floor_px": floor,
        "separation_bar": SEPARATION_BAR,
    }
    problems = []
    if not moving:
        problems.append("no moving-camera clip: the separation cannot be measured")
    else:
        out["separation"] = {m: _moving_mean_ratio(by_row, m, moving) for m in ("bg-track", "bg-camera")}
        for metric, ratio in out["separation"].items():
            if ratio < SEPARATION_BAR:
                problems.append(f"frozen / ground truth {metric} is {ratio:.1f}x (< {SEPARATION_BAR:g}x)")
    if "bg-camera-label" in gt:
        out["ground_truth_label_agreement"] = gt["bg-camera-label"].value
        if gt["bg-camera-label"].value < LABEL_AGREEMENT_BAR:
            problems.append(
                f"the ground truth's own camera label agrees on {gt['bg-camera-label'].value:.0%} of clips "
                f"(< {LABEL_AGREEMENT_BAR:.0%}): the label is noise at this resolution"
            )
    if "bg-camera-translation" in by_row["shifted-background"]:
        deviations = {}
        for key, value in by_row["shifted-background"]["bg-camera-translation"].per_video.items():
            clip = bench.clip(key)
            size = protocol.pixel_resolution
            scale = (1.0, 1.0) if size is None else (size / clip["width"], size / clip["height"])
            expected = expected_shift_error(clip["frames"], shift_px, scale)
            deviations[key] = value / expected - 1.0
        out["shift_px"] = shift_px
        out["shifted_worst_deviation"] = float(max(abs(d) for d in deviations.values()))
        out["shifted_deviation"] = deviations
    out["problems"] = problems
    out["passed"] = not problems
    return out


def define_benchmark(
    shards: str | os.PathLike,
    out: str | os.PathLike,
    protocol: Protocol,
    *,
    split: str = "test",
    name: str | None = None,
    shift_px: float = 32.0,
    weights_dir: Path | None = None,
    weights: Mapping[str, Path] | None = None,
    lpips_trunk: Path | None = None,
    device: str = "cpu",
    log: Callable[[str], None] = lambda _: None,
) -> Benchmark:
    """`backdrop bench define`: copy the split's clips and truth out of the shards, write and score the training-free
    rows (which also stores the Fréchet reference statistics), calibrate, and write `benchmark.json`. A protocol
    that fails calibration is refused (`CalibrationError`; its figures are left in `calibration.json`)."""
    out = Path(out)
    info = write_benchmark_clips(shards, out, protocol, split=split, name=name)
    draft = Benchmark(out, info)
    log(f"benchmark {draft.name}: {len(draft.keys)} clips from {info['source']['shards']} ({split})")
    folders = write_training_free_rows(draft, shift_px=shift_px, log=log)
    rows: dict[str, list[ResultRow]] = {}
    for row, folder in folders.items():
        log(f"scoring training-free row {row}")
        rows[row] = score_videos(
            draft,
            folder,
            model=row,
            kind="training-free",
            weights_dir=weights_dir,
            weights=weights,
            lpips_trunk=lpips_trunk,
            device=device,
            allow_constant=True,
            log=log,
        )
        write_results(rows[row], draft.rows_dir / row)
    calibration = calibrate(draft, rows, shift_px)
    (out / "calibration.json").write_text(json.dumps(calibration, indent=2) + "\n")
    if not calibration["passed"]:
        raise CalibrationError(
            f"protocol {protocol.name} is refused on this benchmark: {'; '.join(calibration['problems'])}. "
            f"Choose a protocol with a larger pixel_resolution (figures in {out / 'calibration.json'})"
        )
    info["calibration"] = calibration
    info["training_free_rows"] = list(TRAINING_FREE_ROWS)
    (out / "benchmark.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return load_benchmark(out)


def remove_incomplete(out: str | os.PathLike) -> None:
    """Remove a benchmark folder that never got its benchmark.json (a refused or interrupted definition)."""
    out = Path(out)
    if out.is_dir() and not (out / "benchmark.json").exists():
        shutil.rmtree(out)
