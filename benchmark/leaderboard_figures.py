"""The leaderboard's figures, embedded in its one HTML file as PNG data URIs: each metric per model with its 95 %
interval, background errors by the clips' camera labels, each video's background motion against the truth's
(matplotlib, Agg), and a strip of frames per model beside the ground truth for a few clips (OpenCV)."""

from __future__ import annotations

import base64
import io
import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from benchmark.metrics import ALL_METRICS
from benchmark.video import VideoError, read_video

__all__ = ["by_label_plot", "dynamics_plot", "frame_strips", "metric_order", "metric_plot", "model_order"]

STRIP_CLIPS = 3
STRIP_FRAMES = 4
STRIP_HEIGHT = 96
PLOT_METRICS_BY_LABEL = ("bg-track", "bg-camera")


def data_uri_png(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def figure_uri(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return data_uri_png(buffer.getvalue())


def model_order(rows: Sequence[dict[str, Any]]) -> list[str]:
    # training-free rows first (in their published order), then models by name
    order = ("ground-truth", "frozen-background", "shifted-background", "reference-repeated", "reference-warped")
    names = {r["model"] for r in rows}
    return [m for m in order if m in names] + sorted(names - set(order))


def metric_order(rows: Sequence[dict[str, Any]]) -> list[str]:
    present = {r["metric"] for r in rows}
    return [m for m in ALL_METRICS if m in present] + sorted(present - set(ALL_METRICS))


def metric_plot(rows: Sequence[dict[str, Any]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics, models = metric_order(rows), model_order(rows)
    cols = min(4, len(metrics))
    nrows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(3.4 * cols, 0.28 * len(models) * nrows + 1.4 * nrows), squeeze=False)
    cell = {(r["model"], r["metric"]): r for r in rows}
    for ax, metric in zip(axes.flat, metrics, strict=False):
        ys, xs, lows, highs = [], [], [], []
        for i, model in enumerate(models):
            r = cell.get((model, metric))
            if r is None or r.get("value") is None or not math.isfinite(r["value"]):
                continue
            ys.append(i)
            xs.append(r["value"])
            lows.append(r["value"] - (r.get("interval_low") if r.get("interval_low") is not None else r["value"]))
            highs.append((r.get("interval_high") if r.get("interval_high") is not None else r["value"]) - r["value"])
        ax.errorbar(xs, ys, xerr=[lows, highs], fmt="o", capsize=3)
        ax.set_yticks(range(len(models)), models, fontsize=7)
        ax.set_ylim(-0.5, len(models) - 0.5)
        ax.invert_yaxis()
        unit = next(r.get("unit") or "" for r in rows if r["metric"] == metric)
        ax.set_title(f"{metric} ({unit[:20]})", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.axis("off")
    fig.tight_layout()
    return figure_uri(fig)


def by_label_plot(rows: Sequence[dict[str, Any]]) -> str | None:
    import matplotlib.pyplot as plt

    wanted = [r for r in rows if r["metric"] in PLOT_METRICS_BY_LABEL and r.get("per_video")]
    if not wanted:
        return None
    metrics = [m for m in PLOT_METRICS_BY_LABEL if any(r["metric"] == m for r in wanted)]
    models = model_order(wanted)
    fig, axes = plt.subplots(1, len(metrics), figsize=(6 * len(metrics), 3.2), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=True):
        labels: set[str] = set()
        means: dict[str, dict[str, float]] = {}
        for r in (r for r in wanted if r["metric"] == metric):
            clip_labels = r.get("clip_camera_labels") or {}
            groups: dict[str, list[float]] = defaultdict(list)
            for key, value in r["per_video"].items():
                groups[clip_labels.get(key) or "unknown"].append(value)
            means[r["model"]] = {label: float(np.mean(v)) for label, v in groups.items()}
            labels |= groups.keys()
        order = sorted(labels)
        width = 0.8 / max(1, len(models))
        for i, model in enumerate(models):
            values = [means.get(model, {}).get(label, np.nan) for label in order]
            ax.bar(np.arange(len(order)) + i * width, values, width, label=model)
        ax.set_xticks(np.arange(len(order)) + 0.4 - width / 2, order, rotation=30, fontsize=7, ha="right")
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_ylabel(f"{metric} (px, mean per label)", fontsize=8)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return figure_uri(fig)


def dynamics_plot(rows: Sequence[dict[str, Any]]) -> str | None:
    import matplotlib.pyplot as plt

    wanted = [r for r in rows if r["metric"] == "bg-dynamics" and r.get("motion_px")]
    if not wanted:
        return None
    fig, ax = plt.subplots(figsize=(5, 4))
    top = 1.0
    order = model_order(wanted)
    for r in sorted(wanted, key=lambda r: order.index(r["model"])):
        pairs = np.array(list(r["motion_px"].values()), dtype=np.float64).reshape(-1, 2)
        ax.scatter(pairs[:, 1], pairs[:, 0], s=14, label=r["model"])
        top = max(top, float(np.nanmax(pairs)))
    ax.plot([0, top], [0, top], color="grey", linewidth=0.8, linestyle="--", label="as much as the truth")
    ax.set_xlabel("truth: median background displacement from frame 0 (px)", fontsize=8)
    ax.set_ylabel("generated (px)", fontsize=8)
    ax.legend(fontsize=6)
    fig.tight_layout()
    return figure_uri(fig)


def _video_for(folder: Path, key: str) -> Path | None:
    for suffix in (".mp4", ".npy"):
        if (folder / f"{key}{suffix}").is_file():
            return folder / f"{key}{suffix}"
    found = sorted(folder.glob(f"{key}_*"))
    return found[0] if len(found) == 1 else None


def _frames(path: Path, count: int) -> np.ndarray:
    video = np.load(path, allow_pickle=False) if path.suffix == ".npy" else read_video(path)
    picked = np.linspace(0, len(video) - 1, count).round().astype(int)
    out = []
    for frame in video[picked]:
        scale = STRIP_HEIGHT / frame.shape[0]
        out.append(
            cv2.resize(frame, (max(1, round(frame.shape[1] * scale)), STRIP_HEIGHT), interpolation=cv2.INTER_AREA)
        )
    return np.concatenate(out, axis=1)


def _label(strip: np.ndarray, text: str) -> np.ndarray:
    band = np.full((18, strip.shape[1], 3), 255, np.uint8)
    cv2.putText(band, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([band, strip], axis=0)


def frame_strips(rows: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(clip key, data URI) of a strip per clip: the ground truth, then each row's video, when the files are there."""
    folders: dict[str, Path] = {}
    bench_dir = None
    labels: dict[str, str] = {}
    for r in rows:
        if r.get("pred_dir") and Path(r["pred_dir"]).is_dir():
            folders.setdefault(r["model"], Path(r["pred_dir"]))
        if r.get("benchmark_dir") and Path(r["benchmark_dir"]).is_dir():
            bench_dir = Path(r["benchmark_dir"])
        labels.update(r.get("clip_camera_labels") or {})
    if bench_dir is None:
        return []
    keys = sorted(p.stem for p in (bench_dir / "clips").glob("*.mp4"))
    moving = [k for k in keys if (labels.get(k) or "static") != "static"]
    out = []
    for key in (moving + [k for k in keys if k not in moving])[:STRIP_CLIPS]:
        parts = [_label(_frames(bench_dir / "clips" / f"{key}.mp4", STRIP_FRAMES), f"truth {key} ({labels.get(key)})")]
        for model in model_order(rows):
            if model == "ground-truth" or model not in folders:
                continue
            video = _video_for(folders[model], key)
            if video is None:
                continue
            try:
                strip = _frames(video, STRIP_FRAMES)
            except (VideoError, ValueError, OSError):
                continue
            if strip.shape[1] != parts[0].shape[1]:
                strip = cv2.resize(strip, (parts[0].shape[1], STRIP_HEIGHT), interpolation=cv2.INTER_AREA)
            parts.append(_label(strip, model))
        ok, png = cv2.imencode(".png", cv2.cvtColor(np.concatenate(parts, axis=0), cv2.COLOR_RGB2BGR))
        if ok:
            out.append((key, data_uri_png(png.tobytes())))
    return out
