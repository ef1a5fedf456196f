"""Packing finished sources into the job's outputs: shards `OUT/shards/{split}-{000000}.tar`, one `wids` index per
split (`OUT/shards/{split}.index.json`) and `OUT/manifest.parquet`.

Beside each shard, `{shard}_stats.json` (`curation.shards.shard_stats`); the manifest's metadata holds the job's
identity (`curation.pipeline.job_identity`) under the key `backdrop`.

Packing reads only committed units and is deterministic: units in source-id order, clips in key order, a new shard
whenever the next sample would pass the target size. Packing twice, or after a resumed job, gives the same bytes.
Every file is written under a temporary name and renamed, so no partial shard is ever visible under its final name;
shards left from an earlier packing that the new plan does not name are removed afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from curation.record import OK
from curation.shards.ledger import Ledger, iter_unit_samples, read_unit_rows
from curation.shards.manifest_rows import ROW_COLUMNS
from curation.shards.shard_stats import stats_path, write_shard_stats
from curation.shards.split import SPLITS, split_of
from curation.shards.tar_files import atomic_write, write_tar

INDEX_KIND = "wids-shard-index-v1"


@dataclass
class PackResult:
    shards: dict[str, list[str]] = field(default_factory=dict)  # split -> shard file names
    samples: Counter = field(default_factory=Counter)  # split -> kept clips
    rows: list[dict[str, Any]] = field(default_factory=list)  # the manifest rows, in key order
    stats: list[dict[str, Any]] = field(default_factory=list)  # each shard's statistics, in split and shard order


#: The manifest's schema metadata key holding the job's identity (JSON).
MANIFEST_METADATA_KEY = b"backdrop"


def _write_shard(path: Path, split: str, samples: list[tuple[str, dict[str, bytes]]], stats: list) -> dict[str, Any]:
    members = ((f"{key}.{m}", data[m]) for key, data in samples for m in sorted(data))
    atomic_write(path, lambda handle: write_tar(handle, members))
    stats.append(write_shard_stats(path, split, [json.loads(data["json"]) for _, data in samples]))
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return {"url": path.name, "nsamples": len(samples), "filesize": path.stat().st_size, "md5sum": digest.hexdigest()}


def _write_index(path: Path, split: str, shards: list[dict[str, Any]]) -> None:
    index = {"__kind__": INDEX_KIND, "wids_version": 1, "name": f"backdrop-{split}", "shardlist": shards}
    data = json.dumps(index, indent=1, sort_keys=True).encode()
    atomic_write(path, lambda handle: handle.write(data))


def write_manifest(path: Path, rows: list[dict[str, Any]], metadata: dict[str, Any] | None = None) -> None:
    """The manifest; `metadata` (the job's identity) goes into the Parquet schema's metadata as JSON."""
    scores = sorted({c for row in rows for c in row if c.startswith("score_")})
    columns = [*ROW_COLUMNS, *scores, "split", "shard"]
    frame = pd.DataFrame([{c: row.get(c) for c in columns} for row in rows], columns=columns)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if metadata is not None:
        extra = {MANIFEST_METADATA_KEY: json.dumps(metadata, sort_keys=True).encode()}
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **extra})
    atomic_write(path, lambda handle: pq.write_table(table, handle))


def _chunks(ledger: Ledger, units: list[str], shard_bytes: int) -> Iterator[list[tuple[str, dict[str, bytes]]]]:
    """The kept samples of the units, in order, cut into lists of about `shard_bytes` (at least one sample each)."""
    pending: list[tuple[str, dict[str, bytes]]] = []
    size = 0
    packed: set[str] = set()
    for unit in units:
        for key, members in iter_unit_samples(ledger.unit_path(unit)):
            if key in packed:
                continue
            packed.add(key)
            sample_size = sum(len(v) + 1024 for v in members.values())  # data plus a tar header per member
            if pending and size + sample_size > shard_bytes:
                yield pending
                pending, size = [], 0
            pending.append((key, members))
            size += sample_size
    if pending:
        yield pending


def read_manifest_metadata(path: str | os.PathLike) -> dict[str, Any] | None:
    """The job identity a manifest's metadata holds (None for a manifest without it)."""
    metadata = pq.read_schema(path).metadata or {}
    return json.loads(metadata[MANIFEST_METADATA_KEY]) if MANIFEST_METADATA_KEY in metadata else None


def pack(
    out: str | os.PathLike,
    units: Iterable[str],
    *,
    test_fraction: float,
    shard_bytes: int,
    describe: Callable[[PackResult], dict[str, Any]] | None = None,
) -> PackResult:
    """Write shards, their statistics, indexes and the manifest from the given committed units (names; duplicates
    count once); `describe(result)`, called once the shards are written, gives the manifest's metadata."""
    out = Path(out)
    ledger = Ledger(out)
    shard_dir = out / "shards"
    shard_dir.mkdir(parents=True, exist_ok=True)
    result = PackResult()
    by_split: dict[str, list[str]] = {s: [] for s in SPLITS}
    seen: set[str] = set()
    for unit in sorted(set(units)):
        rows = read_unit_rows(ledger.unit_path(unit))
        split = split_of(unit, test_fraction) if not unit.startswith("path-") else None
        for row in rows:
            if row["key"] in seen:
                continue
            seen.add(row["key"])
            row["split"] = split  # per source: every row of a source, kept or not
            row["shard"] = None
            result.rows.append(row)
        if split is not None and any(r["status"] == OK for r in rows):
            by_split[split].append(unit)
    shard_of: dict[str, str] = {}
    for split, split_units in by_split.items():
        infos = []
        for samples in _chunks(ledger, split_units, shard_bytes):
            name = f"{split}-{len(infos):06d}.tar"
            infos.append(_write_shard(shard_dir / name, split, samples, result.stats))
            shard_of.update((key, name) for key, _ in samples)
        names = [info["url"] for info in infos]
        for stale in shard_dir.glob(f"{split}-*.tar"):
            if stale.name not in names:
                stale.unlink()
                stats_path(stale).unlink(missing_ok=True)
        index = shard_dir / f"{split}.index.json"
        if infos:
            _write_index(index, split, infos)
        else:
            index.unlink(missing_ok=True)
        result.shards[split] = names
        result.samples[split] = sum(info["nsamples"] for info in infos)
    for row in result.rows:
        row["shard"] = shard_of.get(row["key"])
    result.rows.sort(key=lambda r: r["key"])
    write_manifest(out / "manifest.parquet", result.rows, describe(result) if describe is not None else None)
    return result
