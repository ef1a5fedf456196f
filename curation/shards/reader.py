"""Reading curated shards for training: a WebDataset pipeline that streams schema-v1 samples as torch tensors.

    dataset = shard_dataset("out/shards-run", split="train", shuffle=1000, resampled=True)
    loader = torch.utils.data.DataLoader(dataset.batched(1), num_workers=8, batch_size=None)

Without `resampled`, every shard is read once per epoch, divided between nodes (`split_by_node`, by torch.distributed
rank) and then between DataLoader workers (`split_by_worker`); with fewer shards than workers some get none, so many
workers and nodes should use `resampled=True` (each draws shards at random, endlessly: bound an epoch with
`.with_epoch(n)`). Errors go to `handler`: `reraise` (the default, what tests use) stops at the first bad sample,
`warn_and_skip` logs it and goes on. A sample of a schema version this reader does not know is refused
(`curation.shards.schema.SchemaError`), never guessed at.

A sample, decoded (T frames of H x W, P persons, N tracked points):

| key | content |
| --- | --- |
| `__key__`, `__url__` | the sample key and its shard |
| `json` | the metadata dict |
| `frames` | uint8 [T, H, W, 3], RGB, decoded from the mp4 by `curation.video.reader` |
| `pose` | float32 [T, P, 133, 3] |
| `tracks` | float32 [T, N, 2] |
| `visible`, `track_mask` | bool [T, N] |
| `fgmask` | bool [T, H, W] (unpacked) |
| `camera` | float32 [T, 3, 3] |
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import webdataset as wds

from curation.shards.schema import MEMBERS, SchemaError, decode_members
from curation.shards.tar_files import check_member_name
from curation.video.reader import read_video

log = logging.getLogger(__name__)

Handler = Callable[[Exception], bool]
KEY_PATTERN = re.compile(r"[0-9a-f]{16}-[0-9]{4}")
TENSORS = ("pose", "tracks", "visible", "track_mask", "fgmask", "camera")


def reraise(error: Exception) -> bool:
    """Fail hard at the first bad shard or sample (tests, and anyone who wants to know)."""
    raise error


def warn_and_skip(error: Exception) -> bool:
    """Log the bad shard or sample and go on (long training runs)."""
    log.warning("skipping a shard or sample: %s: %s", type(error).__name__, error)
    return True


def _member_allowed(name: str) -> bool:
    """Checked on each tar member's name before its data is read: KEY.MEMBER, no folders, links or `..`."""
    check_member_name(name, "shard")
    return True


def decode_sample(sample: dict[str, Any]) -> dict[str, Any]:
    """A raw WebDataset sample (member name -> bytes) as tensors; refuses unknown keys, members and versions."""
    key = sample.get("__key__", "")
    # Tar member names become these keys: a sample key is exactly `{source_id}-{clip:04d}`, so nothing with a path,
    # a dot or a stray suffix gets through, whatever the tar held.
    if not KEY_PATTERN.fullmatch(key):
        raise SchemaError(f"{sample.get('__url__')}: refusing sample key {key!r}")
    members = {name: value for name, value in sample.items() if not name.startswith("__")}
    unknown = sorted(set(members) - set(MEMBERS))
    if unknown:
        raise SchemaError(f"{sample.get('__url__')}: sample {key!r} has unknown members {unknown}")
    decoded = decode_members(members)
    frames = read_video(decoded["mp4"])
    meta = decoded["json"]
    expected = (meta["frames"], meta["height"], meta["width"], 3)
    if frames.shape != expected:
        raise SchemaError(f"sample {key!r}: the mp4 holds frames {frames.shape}, the metadata says {expected}")
    out: dict[str, Any] = {
        "__key__": key,
        "__url__": sample.get("__url__"),
        "json": meta,
        "frames": torch.from_numpy(frames),
    }
    for name in TENSORS:
        out[name] = torch.from_numpy(np.ascontiguousarray(decoded[name]))
    return out


def shard_dir(path: str | os.PathLike) -> Path:
    """The shard folder of a job's output folder (or the shard folder itself)."""
    path = Path(path)
    return path / "shards" if (path / "shards").is_dir() else path


def shard_urls(path: str | os.PathLike, split: str = "train") -> list[str]:
    """The shards of a split, in order, from its `wids` index (else the `{split}-*.tar` files found)."""
    folder = shard_dir(path)
    index = folder / f"{split}.index.json"
    if index.is_file():
        names = [entry["url"] for entry in json.loads(index.read_text())["shardlist"]]
    else:
        names = sorted(p.name for p in folder.glob(f"{split}-*.tar"))
    for name in names:  # an index is data too: it may only name files beside it
        if os.path.basename(name) != name or name.startswith("."):
            raise SchemaError(f"{index}: refusing shard name {name!r}")
    return [str(folder / name) for name in names]


def shard_dataset(
    source: str | os.PathLike | Sequence[str],
    split: str = "train",
    *,
    shuffle: int = 0,
    resampled: bool = False,
    seed: int = 0,
    handler: Handler = reraise,
) -> wds.DataPipeline:
    """Decoded samples of a split's shards (`source`: a job's output or shard folder, or a list of shard paths).

    `shuffle`: a buffer of that many samples (0: shard order, the same on every run); shards are shuffled too.
    """
    urls = list(source) if isinstance(source, (list, tuple)) else shard_urls(source, split)
    if not urls:
        raise FileNotFoundError(f"{source}: no {split} shards")
    if shuffle < 0:
        raise ValueError(f"shuffle must be a buffer size >= 0, got {shuffle}")
    if resampled:
        stages: list[Any] = [wds.ResampledShards(urls, seed=seed, deterministic=True)]
    else:
        stages = [wds.SimpleShardList(urls)]
        if shuffle:
            stages.append(wds.detshuffle(len(urls), initial=len(urls), seed=seed))
        stages += [wds.split_by_node, wds.split_by_worker]
    stages.append(wds.tarfile_to_samples(handler=handler, select_files=_member_allowed))
    if shuffle:
        stages.append(wds.shuffle(shuffle, initial=min(shuffle, 100), seed=seed))
    stages.append(wds.map(decode_sample, handler=handler))
    return wds.DataPipeline(*stages)
