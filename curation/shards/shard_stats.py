"""Per-shard statistics, as video2dataset writes them beside its shards: `{shard}_stats.json` with the samples,
their duration, camera labels, persons and a summary of every score, computed from the samples' JSON while packing.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curation.shards.tar_files import atomic_write

STATS_SUFFIX = "_stats.json"


def stats_path(shard: Path) -> Path:
    """`train-000000.tar` -> `train-000000_stats.json`, beside it."""
    return shard.with_name(shard.name.removesuffix(".tar") + STATS_SUFFIX)


def _summary(values: list[float | None]) -> dict[str, Any]:
    present = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not present:
        return {"count": 0, "missing": len(values), "mean": None, "min": None, "max": None}
    return {
        "count": len(present),
        "missing": len(values) - len(present),
        "mean": sum(present) / len(present),
        "min": min(present),
        "max": max(present),
    }


def shard_stats(shard: str, split: str, metadata: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The statistics of one shard from its samples' JSON members (schema v1)."""
    scores = sorted({name for meta in metadata for name in meta.get("scores", {})})
    backends: dict[str, set[str]] = {}
    for meta in metadata:
        for stage, name in meta.get("backends", {}).items():
            backends.setdefault(stage, set()).add(str(name))
    persons = Counter(meta["persons"]["count"] for meta in metadata)
    return {
        "shard": shard,
        "split": split,
        "samples": len(metadata),
        "frames": sum(int(meta["frames"]) for meta in metadata),
        "duration_s": sum(meta["frames"] / meta["fps"] for meta in metadata),
        "keys": [meta["key"] for meta in metadata],
        "camera_labels": dict(sorted(Counter(meta["camera"]["label"] for meta in metadata).items())),
        "persons": {
            "count": {str(k): v for k, v in sorted(persons.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))},
            "area": _summary([meta["persons"].get("area") for meta in metadata]),
            "tracked_points": _summary([meta["persons"].get("tracked_points") for meta in metadata]),
        },
        "scores": {name: _summary([meta.get("scores", {}).get(name) for meta in metadata]) for name in scores},
        "backends": {stage: sorted(names) for stage, names in sorted(backends.items())},
        "settings_sha256": sorted({(meta.get("job") or {}).get("settings_sha256") or "" for meta in metadata} - {""}),
    }


def write_shard_stats(shard: Path, split: str, metadata: Sequence[dict[str, Any]]) -> dict[str, Any]:
    stats = shard_stats(shard.name, split, metadata)
    data = (json.dumps(stats, indent=1, sort_keys=True) + "\n").encode()
    atomic_write(stats_path(shard), lambda handle: handle.write(data))
    return stats


def read_shard_stats(shard: Path) -> dict[str, Any]:
    return json.loads(stats_path(shard).read_text(encoding="utf-8"))
