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

import html
import json
import math
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from benchmark.leaderboard_figures import (
    by_label_plot,
    dynamics_plot,
    frame_strips,
    metric_order,
    metric_plot,
    model_order,
)

__all__ = ["build_leaderboard", "read_result_rows", "write_leaderboard"]


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


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.4g}"


def _better(row: dict[str, Any]) -> str:
    hib = row.get("higher_is_better")
    return "higher is better" if hib is True else "lower is better" if hib is False else "1 is ideal"


def _table(protocol: str, rows: Sequence[dict[str, Any]]) -> str:
    metrics, models = metric_order(rows), model_order(rows)
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
            f"<p>{len(model_order(prow))} rows, metrics: {html.escape(', '.join(metric_order(prow)))}. Values: mean "
            "over videos; in brackets the 95 % percentile-bootstrap interval over videos. Click a column to sort.</p>",
            _calibration(prow),
            _table(protocol, prow),
            "<h3>Each metric per model, with its interval</h3>",
            f'<img class="plot" alt="metrics of protocol {html.escape(protocol)}" src="{metric_plot(prow)}">',
        ]
        by_label = by_label_plot(prow)
        if by_label:
            parts += [
                "<h3>Background errors by camera label</h3>",
                f'<img class="plot" alt="by label" src="{by_label}">',
            ]
        dynamics = dynamics_plot(prow)
        if dynamics:
            parts += [
                "<h3>Background dynamics against the truth</h3>",
                f'<img class="plot" alt="dynamics" src="{dynamics}">',
            ]
        strips = frame_strips(prow)
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
