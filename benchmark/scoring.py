"""Score a folder of generated videos against their references: the harness behind `backdrop score`.

Generated and reference mp4s are matched by file stem (the clip key). Each pair is decoded once (PyAV) into one
`Sample` (with the ground truth `NAME.gt.npz` beside the reference `NAME.mp4` when a metric needs it, as the
background suite does) and handed to every metric's `update()`; each metric then gives one `ResultRow`, carrying the
protocol name, the metric's full view (including the weights' sha256), the model and benchmark names and, for
per-pair metrics, the per-video values. Fréchet metrics may reuse stored reference statistics (or store them).

Metric names may be given by family: `frechet` (FVD, cd-FVD, FID, FID-VID: set-level distances), `pixel` (PSNR,
SSIM, LPIPS: per pair) and `background` (the background-motion suite: per pair, against the ground truth).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from benchmark.bootstrap import bootstrap_interval
from benchmark.features import load_feature_net
from benchmark.metrics import ALL_METRICS, FAMILIES, FRECHET_METRICS, PIXEL_METRICS, metric_class
from benchmark.metrics.background.truth import BackgroundTruth, ground_truth_path, load_background_truth
from benchmark.metrics.base import Metric, ResultRow, Sample
from benchmark.metrics.frechet import FrechetMetric
from benchmark.metrics.lpips import LPIPS
from benchmark.protocol import NETWORKS, Protocol
from benchmark.stats import load_stats, save_stats, stats_path
from benchmark.video import VideoError, check_not_constant, last_panel, read_video
from curation.weights import UnknownWeightsError, resolve_weights

__all__ = [
    "ALL_METRICS",
    "DEFAULT_METRICS",
    "Pair",
    "ScoreOptions",
    "build_metrics",
    "expand_metrics",
    "match_pairs",
    "read_scored_video",
    "score",
    "score_pairs",
    "write_results",
]

#: What `ScoreOptions` scores when not told: the metrics that need no ground truth beyond the reference videos.
DEFAULT_METRICS = (*FRECHET_METRICS, *PIXEL_METRICS)


@dataclass(frozen=True)
class Pair:
    key: str
    pred: Path
    ref: Path


@dataclass(frozen=True)
class ScoreOptions:
    """How to score. Weights come from `weights` (network registry name -> path), else from `weights_dir` under their
    canonical file names (None: the default weights directory, the one `backdrop weights download` fills)."""

    protocol: Protocol
    metrics: Sequence[str] = DEFAULT_METRICS
    weights_dir: Path | None = None
    weights: Mapping[str, Path] = field(default_factory=dict)
    lpips_trunk: Path | None = None  # torchvision AlexNet weights, when the LPIPS file holds only the linear heads
    device: str = "cpu"
    batch_size: int = 4
    ref_stats_dir: Path | None = None  # reuse/save reference statistics here ...
    dataset: str | None = None  # ... under this dataset name
    truncate_frames: bool = False  # pixel metrics: compare the first min(T_pred, T_ref) frames instead of failing
    allow_constant: bool = False  # score flat single-colour videos instead of refusing them
    model: str | None = None  # the rows' model name; None: the generated videos' folder name
    benchmark: str | None = None  # the rows' benchmark name; None: `dataset` (which may be None too)
    pred_panels: int | None = None  # generated videos are N panels side by side; score the last (`last_panel`)

    def __post_init__(self) -> None:
        unknown = [m for m in self.metrics if m not in ALL_METRICS]
        if unknown or not self.metrics:
            raise ValueError(f"unknown or no metrics {unknown}; choose from {', '.join(ALL_METRICS)}")
        if len(set(self.metrics)) != len(self.metrics):
            raise ValueError(f"metrics listed twice: {list(self.metrics)}")
        if (self.ref_stats_dir is None) != (self.dataset is None):
            raise ValueError("reference statistics need both a folder (ref_stats_dir) and a dataset name")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        for name in self.weights:
            if name not in NETWORKS:
                # The names views carried before the registry names (i3d-400, ...) get a pointer to the new one.
                former = [n for n, spec in NETWORKS.items() if spec.view_name == name and n != name]
                hint = f" (now called {former[0]!r})" if former else ""
                raise UnknownWeightsError(
                    f"unknown network {name!r}{hint} in weights; known: {', '.join(sorted(NETWORKS))}"
                )


def expand_metrics(names: Sequence[str]) -> tuple[str, ...]:
    """Metric names with family names (`frechet`, `pixel`, `background`) replaced by their metrics, in order."""
    out: list[str] = []
    for name in names:
        out.extend(FAMILIES.get(name, (name,)))
    return tuple(out)


def match_pairs(pred_dir: str | Path, ref_dir: str | Path, *, num_videos: int | None = None) -> list[Pair]:
    """Pairs of generated and reference mp4s with the same stem, sorted by key; mismatched keys are an error."""
    pred_dir, ref_dir = Path(pred_dir), Path(ref_dir)
    for d, what in ((pred_dir, "--pred"), (ref_dir, "--ref")):
        if not d.is_dir():
            raise FileNotFoundError(f"{what} folder {d} does not exist")
    preds = {p.stem: p for p in sorted(pred_dir.glob("*.mp4"))}
    refs = {p.stem: p for p in sorted(ref_dir.glob("*.mp4"))}
    if not preds:
        raise ValueError(f"no .mp4 files in {pred_dir}")
    only_pred, only_ref = sorted(set(preds) - set(refs)), sorted(set(refs) - set(preds))
    if only_pred or only_ref:
        raise ValueError(
            f"keys do not match between {pred_dir} and {ref_dir}: {len(only_pred)} generated without reference "
            f"{only_pred[:5]}, {len(only_ref)} references without generated video {only_ref[:5]}"
        )
    pairs = [Pair(k, preds[k], refs[k]) for k in sorted(preds)]
    if num_videos is not None:
        if len(pairs) < num_videos:
            raise ValueError(f"the protocol scores {num_videos} videos, only {len(pairs)} pairs found in {pred_dir}")
        pairs = pairs[:num_videos]
    return pairs


def _resolve(network: str, options: ScoreOptions) -> Path:
    return resolve_weights(
        network,
        options.weights.get(network),
        weights_dir=options.weights_dir,
        override=f"--weights {network}=PATH or --weights-dir DIR",
    )


def build_metrics(options: ScoreOptions) -> list[Metric]:
    """The metrics `options` asks for, family by family (Fréchet, pixel, background), each family in the given order.

    Every weights file is resolved before any network is built or video decoded.
    """
    p = options.protocol
    names = [m for family in FAMILIES.values() for m in options.metrics if m in family]
    frechet_names = [m for m in names if m in FRECHET_METRICS]
    pixel_names = [m for m in names if m in PIXEL_METRICS]
    # Resolve every weights file before decoding anything, so a missing file fails in the first second.
    paths = {m: _resolve(p.networks[m], options) for m in frechet_names}
    lpips_path = lpips_trunk = None
    if "lpips" in pixel_names:
        lpips_path = _resolve("lpips-alex", options)
        if options.lpips_trunk is not None:
            lpips_trunk = resolve_weights("torchvision-alexnet", options.lpips_trunk, override="--lpips-trunk PATH")
    metrics: list[Metric] = []
    for name in names:
        cls = metric_class(name)
        if name in FRECHET_METRICS:
            net = load_feature_net(p.networks[name], paths[name], device=options.device, batch_size=options.batch_size)
            metrics.append(cls(net, p))
        elif name == "lpips":
            metrics.append(
                LPIPS(
                    p,
                    weights=lpips_path,
                    trunk=lpips_trunk,
                    device=options.device,
                    truncate_frames=options.truncate_frames,
                )
            )
        elif name in PIXEL_METRICS:
            metrics.append(cls(p, device=options.device, truncate_frames=options.truncate_frames))
        else:
            metrics.append(cls(p))
    return metrics


def read_scored_video(path: str | Path) -> np.ndarray:
    """A video to score: an mp4 (decoded with PyAV) or a `.npy` array of uint8 RGB frames [T, H, W, 3] (what a model
    that returns raw frames may hand back; read with allow_pickle=False)."""
    path = Path(path)
    if path.suffix != ".npy":
        return read_video(path)
    try:
        video = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise VideoError(f"{path}: not a readable .npy array ({exc})") from exc
    if video.dtype != np.uint8 or video.ndim != 4 or video.shape[-1] != 3 or video.shape[0] < 1:
        raise VideoError(f"{path}: expected uint8 RGB frames [T, H, W, 3], got {video.dtype} {video.shape}")
    return video


def _decode(path: Path, options: ScoreOptions) -> np.ndarray:
    video = read_scored_video(path)
    if not options.allow_constant:
        check_not_constant(video, path)
    return video


def _package_version() -> str:
    try:
        return version("backdrop")
    except PackageNotFoundError:
        return "unknown"


def _reference_stats_path(metric: Metric, options: ScoreOptions) -> Path | None:
    if not isinstance(metric, FrechetMetric) or options.ref_stats_dir is None or options.dataset is None:
        return None
    return stats_path(options.ref_stats_dir, options.dataset, options.protocol.name, metric.name)


def _truth_beside_reference(pair: Pair, ref: np.ndarray) -> BackgroundTruth:
    """The synthetic corpus' ground truth `NAME.gt.npz` beside the reference `NAME.mp4`."""
    return load_background_truth(ground_truth_path(pair.ref), width=ref.shape[2])


def _format_value(value: float | None, unit: str) -> str:
    return "n/a" if value is None else f"{value:.4g} {unit}"


def score(
    pred_dir: str | Path,
    ref_dir: str | Path,
    options: ScoreOptions,
    *,
    metrics: Sequence[Metric] | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> list[ResultRow]:
    """Result rows (one per metric) for the generated videos in `pred_dir` against the references in `ref_dir`
    (ground truth for the background suite: `NAME.gt.npz` beside each reference).

    `metrics` replaces the ones `options` would build (`build_metrics`).
    """
    pairs = match_pairs(pred_dir, ref_dir, num_videos=options.protocol.num_videos)
    context = {"pred_dir": str(pred_dir), "ref_dir": str(ref_dir)}
    model = options.model if options.model is not None else Path(pred_dir).resolve().name
    truth_files = [ground_truth_path(pair.ref) for pair in pairs]
    return score_pairs(
        pairs,
        options,
        truth_for=_truth_beside_reference,
        truth_files=truth_files,
        metrics=metrics,
        model=model,
        context=context,
        log=log,
    )


def score_pairs(
    pairs: Sequence[Pair],
    options: ScoreOptions,
    *,
    truth_for: Callable[[Pair, np.ndarray], BackgroundTruth],
    truth_files: Sequence[Path] = (),
    metrics: Sequence[Metric] | None = None,
    model: str | None = None,
    context: Mapping[str, object] | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> list[ResultRow]:
    """Result rows (one per metric) for matched pairs of generated and reference videos.

    `truth_for(pair, decoded reference)` gives a pair's background truth (read only when a metric needs it);
    `truth_files` are the files it will read, all checked before any video is decoded. Every row carries the number
    of videos and generated frames it came from and, for per-video metrics, a 95 % bootstrap interval over videos.
    """
    metrics = list(metrics) if metrics is not None else build_metrics(options)
    needs_truth = any("truth" in m.requires for m in metrics)
    if needs_truth:
        missing = [str(path) for path in truth_files if not Path(path).is_file()]
        if missing:  # every one of them, before the first video is decoded
            raise FileNotFoundError(
                f"{len(missing)} ground-truth file(s) missing (the background suite needs one per clip): "
                + ", ".join(missing[:20])
                + (" ..." if len(missing) > 20 else "")
            )
    stats_files = {m.name: _reference_stats_path(m, options) for m in metrics if isinstance(m, FrechetMetric)}
    loaded: dict[str, Path] = {}
    for m in metrics:
        path = stats_files.get(m.name)
        if path is not None and path.is_file():
            m.use_reference(load_stats(path, expected_view=m.view))  # refuses statistics of another protocol view
            loaded[m.name] = path
    frames = 0
    for i, pair in enumerate(pairs, 1):
        pred, ref = _decode(pair.pred, options), _decode(pair.ref, options)
        if options.pred_panels is not None:
            pred = last_panel(pred, options.pred_panels)
        frames += int(pred.shape[0])
        # The clip's ground truth; `analyse_sample` checks it describes `ref`.
        truth = truth_for(pair, ref) if needs_truth else None
        sample = Sample(pair.key, pred, ref, truth=truth, pred_name=str(pair.pred), ref_name=str(pair.ref))
        for m in metrics:
            began = time.perf_counter()
            value = m.update(sample)
            log(
                f"[{i}/{len(pairs)}] {pair.key} {m.name}: {_format_value(value, m.unit)} "
                f"({time.perf_counter() - began:.1f} s)"
            )
    context = {**(context or {}), "backdrop_version": _package_version()}
    model = options.model if options.model is not None else model
    benchmark = options.benchmark if options.benchmark is not None else options.dataset
    rows = []
    for m in metrics:
        extras = dict(context)
        if m.name in stats_files:
            path, saved = stats_files[m.name], None
            if path is not None and m.name not in loaded:
                saved = save_stats(m.real, path)
            extras["reference_stats"] = str(loaded.get(m.name) or saved or "") or None
        row = m.row(model=model, benchmark=benchmark, num_videos=len(pairs))
        interval = bootstrap_interval(row.per_video.values()) if row.per_video else None
        extras.update(interval.as_dict() if interval else {"interval_low": None, "interval_high": None})
        rows.append(row.with_extras(num_frames=frames, **extras))
    return rows


def write_results(rows: Sequence[ResultRow], out: str | Path) -> list[Path]:
    """OUT.json (rows as `ResultRow.to_dict` gives them), OUT.parquet (one row per metric; per_video and other nested
    values as JSON text) and OUT.per_video.parquet (long table: metric, protocol, key, value). `out` may end in
    .json or .parquet."""
    import pandas as pd

    out = Path(out)
    if out.suffix in (".json", ".parquet"):
        out = out.with_suffix("")
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path, table_path, long_path = (
        out.with_name(out.name + s) for s in (".json", ".parquet", ".per_video.parquet")
    )
    dicts = [row.to_dict() for row in rows]
    json_path.write_text(json.dumps(dicts, indent=2, sort_keys=True) + "\n")
    # Nested values (per-video tables, label pairs, lists of keys) go into the table as JSON text.
    flat = [
        {
            **{k: json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v for k, v in r.items()},
            "per_video": json.dumps(r.get("per_video"), sort_keys=True),
            "truncated_videos": json.dumps(r.get("truncated_videos")),
        }
        for r in dicts
    ]
    pd.DataFrame(flat).to_parquet(table_path, index=False)
    long = [
        {"metric": r["metric"], "protocol": r["protocol"], "key": k, "value": v}
        for r in dicts
        for k, v in (r.get("per_video") or {}).items()
    ]
    pd.DataFrame(long, columns=["metric", "protocol", "key", "value"]).to_parquet(long_path, index=False)
    return [json_path, table_path, long_path]
