"""Score a folder of generated videos against their references: the harness behind `backdrop score`.

Generated and reference mp4s are matched by file stem (the clip key). Each pair is decoded once (PyAV) and handed to
every metric family; a family turns what it saw into result rows, one per metric, each carrying the protocol name,
its full view (including the weights' sha256) and, for per-pair metrics, the per-video values.

Families: `frechet` (FVD, cd-FVD, FID, FID-VID: set-level distances), `pixel` (PSNR, SSIM, LPIPS: per-pair) and
`background` (the background-motion suite: per-pair, against the ground truth `NAME.gt.npz` beside each reference
`NAME.mp4`). A family implements two methods, `update(pair, pred, ref)` and `rows()`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from typing import Protocol as TypingProtocol

import numpy as np

from benchmark.features import load_feature_net, resolve_weights
from benchmark.metrics.background.suite import BackgroundSuite
from benchmark.metrics.background.truth import ground_truth_path, load_background_truth
from benchmark.metrics.frechet import FID, FIDVID, FVD, ContentDebiasedFVD, FrechetMetric
from benchmark.metrics.pixel import LPIPS, PSNR, SSIM, PixelMetric
from benchmark.protocol import BACKGROUND_METRICS, FEATURE_METRICS, PIXEL_METRICS, Protocol
from benchmark.stats import load_stats, save_stats, stats_path
from benchmark.video import VideoError, check_not_constant, read_video, resize_video

__all__ = [
    "ALL_METRICS",
    "DEFAULT_METRICS",
    "METRIC_FAMILIES",
    "MetricFamily",
    "Pair",
    "ScoreOptions",
    "expand_metrics",
    "match_pairs",
    "score",
    "write_results",
]

ALL_METRICS = (*FEATURE_METRICS, *PIXEL_METRICS, *BACKGROUND_METRICS)
#: What `ScoreOptions` scores when not told: the metrics that need no ground truth beyond the reference videos.
DEFAULT_METRICS = (*FEATURE_METRICS, *PIXEL_METRICS)
#: Names that stand for a whole family in a metrics list.
METRIC_FAMILIES = {"frechet": FEATURE_METRICS, "pixel": PIXEL_METRICS, "background": BACKGROUND_METRICS}
_FRECHET_CLASSES: dict[str, type[FrechetMetric]] = {
    "fvd": FVD,
    "cd-fvd": ContentDebiasedFVD,
    "fid": FID,
    "fid-vid": FIDVID,
}


@dataclass(frozen=True)
class Pair:
    key: str
    pred: Path
    ref: Path


@dataclass(frozen=True)
class ScoreOptions:
    """How to score. Weights come from `weights_dir` (canonical file names) or `weights` (network -> path)."""

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


class MetricFamily(TypingProtocol):
    """A group of metrics fed with every decoded pair."""

    def update(self, pair: Pair, pred: np.ndarray, ref: np.ndarray) -> None: ...

    def rows(self) -> list[dict[str, Any]]: ...


def expand_metrics(names: Sequence[str]) -> tuple[str, ...]:
    """Metric names with family names (`frechet`, `pixel`, `background`) replaced by their metrics, in order."""
    out: list[str] = []
    for name in names:
        out.extend(METRIC_FAMILIES.get(name, (name,)))
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


class FrechetFamily:
    """Set-level metrics: fake statistics from generated videos, real ones from references or a statistics file."""

    def __init__(self, metrics: list[FrechetMetric], options: ScoreOptions) -> None:
        self.metrics = metrics
        self.options = options
        self.loaded_from: dict[str, Path] = {}
        for m in metrics:
            path = self._stats_path(m)
            if path is not None and path.is_file():
                m.real = load_stats(path, expected_view=m.view)  # refuses statistics of another protocol view
                self.loaded_from[m.name] = path

    def _stats_path(self, metric: FrechetMetric) -> Path | None:
        o = self.options
        if o.ref_stats_dir is None or o.dataset is None:
            return None
        return stats_path(o.ref_stats_dir, o.dataset, o.protocol.name, metric.name)

    def update(self, pair: Pair, pred: np.ndarray, ref: np.ndarray) -> None:
        for m in self.metrics:
            for video, path, real in ((pred, pair.pred, False), (ref, pair.ref, True)):
                if real and m.name in self.loaded_from:
                    continue
                try:
                    m.update([video], real=real)
                except VideoError as exc:
                    raise VideoError(f"{path}: {exc}") from exc

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for m in self.metrics:
            saved = None
            path = self._stats_path(m)
            if path is not None and m.name not in self.loaded_from:
                saved = save_stats(m.real, path)
            out.append(
                {
                    "metric": m.name,
                    "value": m.compute(),
                    "higher_is_better": m.higher_is_better,
                    "protocol": m.protocol.name,
                    "protocol_view": m.view,
                    "num_videos": None,  # filled by score()
                    "num_feature_rows": m.fake.n,
                    "num_reference_rows": m.real.n,
                    "reference_stats": str(self.loaded_from.get(m.name) or saved or "") or None,
                    "per_video": None,  # a distance between sets has no per-video value
                }
            )
        return out


class PixelFamily:
    """Per-pair metrics on frame pairs: sizes and frame counts must agree (or the protocol/options say how not)."""

    def __init__(self, metrics: list[PixelMetric], options: ScoreOptions) -> None:
        self.metrics = metrics
        self.options = options
        self.truncated: list[str] = []

    def update(self, pair: Pair, pred: np.ndarray, ref: np.ndarray) -> None:
        size = self.options.protocol.pixel_resolution
        if size is not None:
            pred, ref = resize_video(pred, size), resize_video(ref, size)
        elif pred.shape[1:] != ref.shape[1:]:
            raise VideoError(
                f"{pair.pred} is {pred.shape[2]}x{pred.shape[1]} but its reference {pair.ref} is "
                f"{ref.shape[2]}x{ref.shape[1]}; use a protocol with a pixel_resolution to compare them resized"
            )
        if pred.shape[0] != ref.shape[0]:
            if not self.options.truncate_frames:
                raise VideoError(
                    f"{pair.pred} has {pred.shape[0]} frames but its reference {pair.ref} has {ref.shape[0]}; "
                    "pass --truncate-frames to compare the first min(T) frames"
                )
            t = min(pred.shape[0], ref.shape[0])
            pred, ref = pred[:t], ref[:t]
            self.truncated.append(pair.key)
        for m in self.metrics:
            m.update(pred, ref, key=pair.key)

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "metric": m.name,
                "value": m.compute(),
                "higher_is_better": m.higher_is_better,
                "protocol": m.protocol.name,
                "protocol_view": m.protocol.view_json(m.name),
                "num_videos": None,
                "truncated_videos": list(self.truncated),
                "per_video": dict(m.per_video),
            }
            for m in self.metrics
        ]


class BackgroundFamily:
    """The background-motion suite: each generated video against the ground truth beside its reference.

    The ground truth must describe the reference video (same frame count and size): that is checked, so a stale or
    misplaced `NAME.gt.npz` is an error naming it rather than a silently wrong score.
    """

    def __init__(self, suite: BackgroundSuite) -> None:
        self.suite = suite

    def update(self, pair: Pair, pred: np.ndarray, ref: np.ndarray) -> None:
        truth = load_background_truth(ground_truth_path(pair.ref), width=ref.shape[2])
        truth.check_video(ref, str(pair.ref))
        if self.suite.protocol.pixel_resolution is None:
            truth.check_video(pred, str(pair.pred))
        elif pred.shape[0] != ref.shape[0]:
            truth.check_video(pred, str(pair.pred))  # names the frame counts; sizes are resized to the protocol's
        self.suite.update(pred, truth, key=pair.key, name=str(pair.pred))

    def rows(self) -> list[dict[str, Any]]:
        return self.suite.rows()


def _build_families(options: ScoreOptions) -> list[MetricFamily]:
    p = options.protocol
    frechet_names = [m for m in options.metrics if m in FEATURE_METRICS]
    pixel_names = [m for m in options.metrics if m in PIXEL_METRICS]
    # Resolve every weights file before decoding anything, so a missing file fails in the first second.
    paths = {
        m: resolve_weights(p.networks[m], weights_dir=options.weights_dir, overrides=options.weights)
        for m in frechet_names
    }
    lpips_path = None
    if "lpips" in pixel_names:
        lpips_path = resolve_weights("lpips-alex", weights_dir=options.weights_dir, overrides=options.weights)
    families: list[MetricFamily] = []
    if frechet_names:
        metrics = [
            _FRECHET_CLASSES[m](
                load_feature_net(p.networks[m], paths[m], device=options.device, batch_size=options.batch_size), p
            )
            for m in frechet_names
        ]
        families.append(FrechetFamily(metrics, options))
    if pixel_names:
        pixel: list[PixelMetric] = []
        for m in pixel_names:
            if m == "lpips":
                pixel.append(LPIPS(p, weights=lpips_path, trunk=options.lpips_trunk, device=options.device))
            else:
                pixel.append({"psnr": PSNR, "ssim": SSIM}[m](p, device=options.device))
        families.append(PixelFamily(pixel, options))
    background_names = [m for m in options.metrics if m in BACKGROUND_METRICS]
    if background_names:
        families.append(BackgroundFamily(BackgroundSuite(p, background_names)))
    return families


def _decode(path: Path, options: ScoreOptions) -> np.ndarray:
    video = read_video(path)
    if not options.allow_constant:
        check_not_constant(video, path)
    return video


def _package_version() -> str:
    try:
        return version("backdrop")
    except PackageNotFoundError:
        return "unknown"


def score(
    pred_dir: str | Path,
    ref_dir: str | Path,
    options: ScoreOptions,
    *,
    families: Sequence[MetricFamily] | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> list[dict[str, Any]]:
    """Result rows (one per metric) for the generated videos in `pred_dir` against the references in `ref_dir`."""
    pairs = match_pairs(pred_dir, ref_dir, num_videos=options.protocol.num_videos)
    families = list(families) if families is not None else _build_families(options)
    for i, pair in enumerate(pairs, 1):
        pred, ref = _decode(pair.pred, options), _decode(pair.ref, options)
        for family in families:
            family.update(pair, pred, ref)
        log(f"[{i}/{len(pairs)}] {pair.key}")
    common = {"num_videos": len(pairs), "pred_dir": str(pred_dir), "ref_dir": str(ref_dir)}
    common["backdrop_version"] = _package_version()
    return [{**row, **common} for family in families for row in family.rows()]


def write_results(rows: Sequence[dict[str, Any]], out: str | Path) -> list[Path]:
    """OUT.json (rows as they are), OUT.parquet (one row per metric; per_video as JSON text) and
    OUT.per_video.parquet (long table: metric, key, value). `out` may end in .json or .parquet."""
    import pandas as pd

    out = Path(out)
    if out.suffix in (".json", ".parquet"):
        out = out.with_suffix("")
    out.parent.mkdir(parents=True, exist_ok=True)
    json_path, table_path, long_path = (
        out.with_name(out.name + s) for s in (".json", ".parquet", ".per_video.parquet")
    )
    json_path.write_text(json.dumps(list(rows), indent=2, sort_keys=True) + "\n")
    # Nested values (per-video tables, label pairs, lists of keys) go into the table as JSON text.
    flat = [
        {
            **{k: json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else v for k, v in r.items()},
            "per_video": json.dumps(r.get("per_video"), sort_keys=True),
            "truncated_videos": json.dumps(r.get("truncated_videos")),
        }
        for r in rows
    ]
    pd.DataFrame(flat).to_parquet(table_path, index=False)
    long = [
        {"metric": r["metric"], "protocol": r["protocol"], "key": k, "value": v}
        for r in rows
        for k, v in (r.get("per_video") or {}).items()
    ]
    pd.DataFrame(long, columns=["metric", "protocol", "key", "value"]).to_parquet(long_path, index=False)
    return [json_path, table_path, long_path]
