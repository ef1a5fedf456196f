"""Statistics of a curated dataset, from its manifest and its shards' statistics: what `backdrop shards stats`
prints and the dataset card shows. Every count comes from the manifest (one row per clip, kept or not); shards and
durations from the per-shard statistics files."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from curation.record import OK
from curation.shards.shard_stats import read_shard_stats
from curation.shards.split import SPLITS


class NoDatasetError(FileNotFoundError):
    """A folder that holds no curated dataset (no manifest, or no shards)."""


def read_manifest(out: str | os.PathLike) -> pd.DataFrame:
    """The manifest of a curate job's output folder (or of the folder above its `shards/`)."""
    out = Path(out)
    for path in (out / "manifest.parquet", out.parent / "manifest.parquet"):
        if path.is_file():
            return pd.read_parquet(path)
    raise NoDatasetError(f"{out}: no manifest.parquet (not the output folder of `backdrop curate`)")


def shard_files(out: str | os.PathLike) -> dict[str, list[Path]]:
    """split -> its shard files, in order."""
    out = Path(out)
    folder = out / "shards" if (out / "shards").is_dir() else out
    return {split: sorted(folder.glob(f"{split}-*.tar")) for split in SPLITS}


def _reason(row: pd.Series) -> str:
    return str(row["reason"] or "").replace(str(row["source"]), "SOURCE")


def _summary(values: pd.Series) -> dict[str, Any]:
    present = pd.to_numeric(values, errors="coerce").dropna()
    present = present[present.map(math.isfinite)]
    if present.empty:
        return {"count": 0, "missing": len(values), "mean": None, "median": None, "min": None, "max": None}
    return {
        "count": len(present),
        "missing": int(len(values) - len(present)),
        "mean": float(present.mean()),
        "median": float(present.median()),
        "min": float(present.min()),
        "max": float(present.max()),
    }


def dataset_stats(out: str | os.PathLike) -> dict[str, Any]:
    """Counts by split, status, camera label and reason, shards and durations per split, score summaries of the
    kept clips. Raises NoDatasetError for a folder with no manifest."""
    manifest = read_manifest(out)
    kept = manifest[manifest["status"] == OK]
    files = shard_files(out)
    splits: dict[str, Any] = {}
    for split in SPLITS:
        rows = manifest[manifest["split"] == split]
        stats = [read_shard_stats(path) for path in files[split]]
        splits[split] = {
            "sources": int(rows["source_id"].nunique()),
            "clips": len(rows),
            "kept": int((rows["status"] == OK).sum()),
            "shards": len(files[split]),
            "samples": sum(s["samples"] for s in stats),
            "frames": sum(s["frames"] for s in stats),
            "duration_s": sum(s["duration_s"] for s in stats),
            "bytes": sum(path.stat().st_size for path in files[split]),
        }
    labels: dict[str, Counter] = {split: Counter(kept.loc[kept["split"] == split, "camera_label"]) for split in SPLITS}
    not_kept = manifest[manifest["status"] != OK]
    reasons = Counter(
        (row["status"], row["stage"] or "", _reason(row)) for _, row in not_kept.iterrows()
    )  # one problem on many files counts as one reason
    scores = sorted(c for c in manifest.columns if c.startswith("score_"))
    return {
        "sources": int(manifest["source"].nunique()),
        "clips": len(manifest),
        "status": {str(k): int(v) for k, v in sorted(Counter(manifest["status"]).items())},
        "splits": splits,
        "unassigned": int(manifest["split"].isna().sum()),  # unreadable sources: no content id, so no split
        "camera_labels": {
            str(label): {split: int(labels[split][label]) for split in SPLITS}
            for label in sorted(set().union(*labels.values()))
        },
        "reasons": [
            {"status": status, "stage": stage, "reason": reason, "clips": count}
            for (status, stage, reason), count in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        "scores": {name.removeprefix("score_"): _summary(kept[name]) for name in scores},
    }


def stats_json(stats: dict[str, Any]) -> str:
    return json.dumps(stats, indent=1, sort_keys=True)
