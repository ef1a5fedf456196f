"""The HTML leaderboard (`backdrop leaderboard RESULTS... --out report.html`): one static file, no server, no
network, readable from a file path.

Per protocol (rows of different protocols never share a table): a sortable table (click a column header; a few
lines of inline script, no library) of every model and training-free row with each metric's value, its 95 %
bootstrap interval over videos and the number of videos and frames; the protocol's calibration (noise floor and
separation of the background suite on its benchmark); plots drawn with matplotlib and embedded as PNG data URIs
(each metric per model with its interval; background errors by the clips' camera labels; each video's background
motion against the truth's); a strip of frames per model beside the ground truth for a few clips.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from benchmark.metrics import ALL_METRICS
from benchmark.video import VideoError, read_video

__all__ = ["build_leaderboard", "read_result_rows", "write_leaderboard"]

STRIP_CLIPS = 3
STRIP_FRAMES = 4
STRIP_HEIGHT = 96
PLOT_METRICS_BY_LABEL = ("bg-track", "bg-camera")


def _is_row_list(data: Any) -> bool:
    return isinstance(data, list) and bool(data) and all(isinstance(r, dict) and "protocol_view" in r for r in data)


def read_result_rows(paths: Iterable[str | os.PathLike]) -> list[dict[str, Any]]:
    """Result rows from `write_results` JSON files, or every such file under the given folders (a results folder,
    a benchmark folder with its training-free rows)."""
    rows: list[dict[str, Any]] = []
    for path in map(Path, paths):
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.json"))
        elif path.suffix == ".parquet":
            files = [path.with_name(path.name.removesuffix(".parquet") + ".json")]
        elif path.is_file():
            files = [path]
        else:
            raise FileNotFoundError(f"no results at {path}")
        found = 0
        for file in files:
            try:
                data = json.loads(file.read_text())
            except (OSError, ValueError):
                continue
            if _is_row_list(data):
                rows.extend(data)
                found += 1
        if not found:
            raise ValueError(f"{path}: no result rows (JSON files written by `bench run` or `score`)")
    return rows


def _data_uri_png(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _figure_uri(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return _data_uri_png(buffer.getvalue())


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.4g}"


def _better(row: dict[str, Any]) -> str:
    hib = row.get("higher_is_better")
    return "higher is better" if hib is True else "lower is better" if hib is False else "1 is ideal"


def _models(rows: Sequence[dict[str, Any]]) -> list[str]:
    # training-free rows first (in their published order), then models by name
    order = ("ground-truth", "frozen-background", "shifted-background", "reference-repeated", "reference-warped")
    names = {r["model"] for r in rows}
    return [m for m in order if m in names] + sorted(names - set(order))


def _metric_order(rows: Sequence[dict[str, Any]]) -> list[str]:
    present = {r["metric"] for r in rows}
    return [m for m in ALL_METRICS if m in present] + sorted(present - set(ALL_METRICS))


def _table(protocol: str, rows: Sequence[dict[str, Any]]) -> str:
    metrics, models = _metric_order(rows), _models(rows)
    cell = {(r["model"], r["metric"]): r for r in rows}
    head = ['<th data-type="text">model</th>', '<th data-type="text">kind</th>', '<th data-type="text">benchmark</th>']
    head += ['<th data-type="number">videos</th>', '<th data-type="number">frames</th>']
    for m in metrics:
        example = next(r for r in rows if r["metric"] == m)
        head.append(
            f'<th data-type="number" data-metric="{html.escape(m)}" title="{html.escape(_better(example))}">'
            f"{html.escape(m)}<br><small>{html.escape(example.get('unit') or '')}; "
            f"{html.escape(_better(example))}</small></th>"
        )
    body = []
    for model in models:
        first = next(r for r in rows if r["model"] == model)
        frames = max((r.get("num_frames") or 0) for r in rows if r["model"] == model)
        kind, bench = html.escape(first.get("row_kind") or ""), html.escape(first.get("benchmark") or "")
        tds = [
            f'<td data-value="{html.escape(model)}">{html.escape(model)}</td>',
            f'<td data-value="{kind}">{kind}</td>',
            f'<td data-value="{bench}">{bench}</td>',
            f'<td data-value="{first.get("num_videos")}">{first.get("num_videos")}</td>',
            f'<td data-value="{frames}">{frames}</td>',
        ]
        for m in metrics:
            r = cell.get((model, m))
            value = None if r is None else r.get("value")
            if value is None or not math.isfinite(value):
                tds.append('<td data-value="NaN">n/a</td>')
                continue
            low, high = r.get("interval_low"), r.get("interval_high")
            interval = f' <span class="ci">[{_fmt(low)}, {_fmt(high)}]</span>' if low is not None else ""
            tds.append(f'<td data-value="{value!r}" data-metric="{html.escape(m)}">{_fmt(value)}{interval}</td>')
        body.append(f'<tr data-model="{html.escape(model)}">' + "".join(tds) + "</tr>")
    return (
        f'<table class="leaderboard" id="table-{html.escape(protocol)}" data-protocol="{html.escape(protocol)}">'
        f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _metric_plot(rows: Sequence[dict[str, Any]]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics, models = _metric_order(rows), _models(rows)
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
    return _figure_uri(fig)


def _by_label_plot(rows: Sequence[dict[str, Any]]) -> str | None:
    import matplotlib.pyplot as plt

    wanted = [r for r in rows if r["metric"] in PLOT_METRICS_BY_LABEL and r.get("per_video")]
    if not wanted:
        return None
    metrics = [m for m in PLOT_METRICS_BY_LABEL if any(r["metric"] == m for r in wanted)]
    models = _models(wanted)
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
    return _figure_uri(fig)


def _dynamics_plot(rows: Sequence[dict[str, Any]]) -> str | None:
    import matplotlib.pyplot as plt

    wanted = [r for r in rows if r["metric"] == "bg-dynamics" and r.get("motion_px")]
    if not wanted:
        return None
    fig, ax = plt.subplots(figsize=(5, 4))
    top = 1.0
    order = _models(wanted)
    for r in sorted(wanted, key=lambda r: order.index(r["model"])):
        pairs = np.array(list(r["motion_px"].values()), dtype=np.float64).reshape(-1, 2)
        ax.scatter(pairs[:, 1], pairs[:, 0], s=14, label=r["model"])
        top = max(top, float(np.nanmax(pairs)))
    ax.plot([0, top], [0, top], color="grey", linewidth=0.8, linestyle="--", label="as much as the truth")
    ax.set_xlabel("truth: median background displacement from frame 0 (px)", fontsize=8)
    ax.set_ylabel("generated (px)", fontsize=8)
    ax.legend(fontsize=6)
    fig.tight_layout()
    return _figure_uri(fig)


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


def _strips(rows: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
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
        for model in _models(rows):
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
            out.append((key, _data_uri_png(png.tobytes())))
    return out


def _calibration(rows: Sequence[dict[str, Any]]) -> str:
    for r in rows:
        path = Path(r.get("benchmark_dir") or "") / "benchmark.json"
        if r.get("benchmark_dir") and path.is_file():
            calibration = json.loads(path.read_text()).get("calibration") or {}
            if not calibration.get("background"):
                return "<p>No background metric under this protocol.</p>"
            floor = ", ".join(f"{m} {v:.3g} px" for m, v in calibration.get("noise_floor_px", {}).items())
            separation = ", ".join(f"{m} {v:.1f}x" for m, v in (calibration.get("separation") or {}).items())
            return (
                f'<p class="calibration">Calibration on benchmark {html.escape(str(r.get("benchmark")))} '
                f"({calibration.get('moving_clips')} moving-camera clips): noise floor (ground-truth row) "
                f"{html.escape(floor)}; separation (frozen background / ground truth, moving clips) "
                f"{html.escape(separation)} (bar {calibration.get('separation_bar'):g}x); the ground truth's "
                f"camera label agrees on {calibration.get('ground_truth_label_agreement', float('nan')):.0%}; "
                f"shifted row within {calibration.get('shifted_worst_deviation', float('nan')):.1%} of its injected "
                "offset.</p>"
            )
    return ""


_SCRIPT = """
document.querySelectorAll('table.leaderboard').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var numeric = th.dataset.type === 'number';
      var dir = th.getAttribute('aria-sort') === 'ascending' ? -1 : 1;
      table.querySelectorAll('th').forEach(function (o) { o.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', dir === 1 ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].dataset.value, y = b.cells[col].dataset.value;
        if (numeric) {
          x = parseFloat(x); y = parseFloat(y);
          if (isNaN(x) && isNaN(y)) return 0;
          if (isNaN(x)) return 1;
          if (isNaN(y)) return -1;
          return dir * (x - y);
        }
        return dir * x.localeCompare(y);
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""

_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table.leaderboard { border-collapse: collapse; font-size: 12px; margin: 0.5em 0 1em; }
table.leaderboard th, table.leaderboard td { border: 1px solid #ccc; padding: 3px 6px; text-align: right; }
table.leaderboard th { cursor: pointer; background: #f2f2f2; }
table.leaderboard th[aria-sort=ascending]::after { content: " \\25B2"; }
table.leaderboard th[aria-sort=descending]::after { content: " \\25BC"; }
table.leaderboard td:first-child, table.leaderboard th:first-child { text-align: left; }
.ci { color: #777; font-size: 10px; }
img { max-width: 100%; }
"""


def build_leaderboard(rows: Sequence[dict[str, Any]], *, title: str = "backdrop leaderboard") -> str:
    """The leaderboard's HTML for result rows (dicts as `ResultRow.to_dict` gives them)."""
    by_protocol: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_protocol[r["protocol"]].append(r)
    sections = []
    for protocol in sorted(by_protocol):
        prow = by_protocol[protocol]
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        for r in prow:  # the same model and metric twice (two result files): the later file wins
            seen[(r["model"], r["metric"])] = r
        prow = list(seen.values())
        parts = [
            f'<section class="protocol" id="protocol-{html.escape(protocol)}">',
            f"<h2>Protocol {html.escape(protocol)}</h2>",
            f"<p>{len(_models(prow))} rows, metrics: {html.escape(', '.join(_metric_order(prow)))}. Values: mean "
            "over videos; in brackets the 95 % percentile-bootstrap interval over videos. Click a column to sort.</p>",
            _calibration(prow),
            _table(protocol, prow),
            "<h3>Each metric per model, with its interval</h3>",
            f'<img class="plot" alt="metrics of protocol {html.escape(protocol)}" src="{_metric_plot(prow)}">',
        ]
        by_label = _by_label_plot(prow)
        if by_label:
            parts += [
                "<h3>Background errors by camera label</h3>",
                f'<img class="plot" alt="by label" src="{by_label}">',
            ]
        dynamics = _dynamics_plot(prow)
        if dynamics:
            parts += [
                "<h3>Background dynamics against the truth</h3>",
                f'<img class="plot" alt="dynamics" src="{dynamics}">',
            ]
        strips = _strips(prow)
        if strips:
            parts.append("<h3>Frames: each row beside the ground truth</h3>")
            parts += [f'<img class="strip" alt="frames of {html.escape(k)}" src="{uri}">' for k, uri in strips]
        parts.append("</section>")
        sections.append("\n".join(parts))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        "<p>Rows of different protocols are never in one table: their numbers are not comparable.</p>"
        + "\n".join(sections)
        + f"<script>{_SCRIPT}</script></body></html>\n"
    )


def write_leaderboard(
    results: Iterable[str | os.PathLike], out: str | os.PathLike, *, title: str | None = None
) -> Path:
    """Read result rows from `results` (files or folders) and write the leaderboard to `out` (one HTML file)."""
    rows = read_result_rows(results)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(build_leaderboard(rows, title=title or "backdrop leaderboard"), encoding="utf-8")
    return out
