"""Reading curated shards for training: a WebDataset pipeline that streams schema-v1 samples as torch tensors.

    dataset = shard_dataset("out/shards-run", split="train", shuffle=1000, resampled=True, seed=0)
    dataset.set_epoch(epoch)  # before each epoch's `iter(loader)`
    loader = torch.utils.data.DataLoader(dataset.batched(4), num_workers=8, batch_size=None)

Every stream (a torch.distributed rank, or the `rank`/`world_size` given, times a DataLoader worker) draws from its
own generators, seeded from (seed, epoch, rank, worker) (`curation.shards.streams`): streams differ, and the same
(seed, epoch) gives the same order on a re-run. Without `resampled`, every shard is read once per epoch: the shards
in one order (shuffled per (seed, epoch) when `shuffle`, the same for all streams) divided between nodes and then
between workers; with fewer shards than streams some get none, so many workers and nodes should use
`resampled=True` (each stream draws shards at random, endlessly: bound an epoch with `.with_epoch(n)`). The sample
shuffle buffer of each stream is seeded per stream too. `.batched(n)` collates with
`curation.shards.batching.collate_clips` (persons and tracked points padded, with masks). Errors go to `handler`:
`reraise` (the default, what tests use) stops at the first bad sample, `warn_and_skip` logs it and goes on. A
sample of a schema version this reader does not know is refused (`curation.shards.schema.SchemaError`), never
guessed at. Random access (map-style) to the same decoded samples: `curation.shards.indexed`.

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
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import webdataset as wds
from webdataset.utils import PipelineStage

from curation.shards.batching import collate_clips
from curation.shards.schema import MEMBERS, SchemaError, decode_members
from curation.shards.streams import StreamSeeds
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
    try:
        decoded = decode_members(members)
    except (SchemaError, ValueError) as error:  # name the sample and its shard, whatever the member said
        raise SchemaError(f"{sample.get('__url__')}: sample {key!r}: {error}") from error
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


class _ShardSource(PipelineStage):
    """The first stage: shard urls for this stream, drawn at random endlessly (`resampled`) or divided once."""

    def __init__(self, urls: list[str], stream: StreamSeeds, *, resampled: bool, shuffle: bool) -> None:
        self.urls, self.stream, self.resampled, self.shuffle = urls, stream, resampled, shuffle

    def run(self) -> Iterator[dict[str, str]]:
        if self.resampled:
            rng = self.stream.python_random("shards")
            while True:
                yield {"url": rng.choice(self.urls)}
        order = list(self.urls)
        if self.shuffle:  # one order for all streams, or the division below would not partition the shards
            self.stream.python_random("shards", shared=True).shuffle(order)
        where = self.stream.position()
        for url in order[where.rank :: where.world_size][where.worker :: where.num_workers]:
            yield {"url": url}


class _SampleShuffle(PipelineStage):
    """A shuffle buffer of raw samples (bytes, before decoding, so a large buffer stays cheap) seeded per stream."""

    def __init__(self, size: int, stream: StreamSeeds) -> None:
        self.size, self.stream = size, stream

    def run(self, source: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        rng = self.stream.python_random("samples")
        return wds.shuffle(self.size, initial=min(self.size, 100), rng=rng)(iter(source))


class ShardPipeline(wds.DataPipeline, wds.FluidInterface):
    """A `DataPipeline` with WebDataset's fluid methods (`.batched`, `.map`, ...) and the epoch of its streams."""

    def __init__(self, *stages: Any, stream: StreamSeeds) -> None:
        super().__init__(*stages)
        self.stream = stream

    def set_epoch(self, epoch: int) -> ShardPipeline:
        """Seeds every stream's generators for `epoch` (call before the epoch's `iter(loader)`)."""
        self.stream.set_epoch(epoch)
        return self

    def batched(
        self, batchsize: int, collation_fn: Callable[[list], Any] | None = collate_clips, partial: bool = True
    ) -> ShardPipeline:
        """Batches of `batchsize` samples; the default collate pads persons and tracked points (see
        `collate_clips`), WebDataset's own would fail on clips of different person or track counts."""
        if isinstance(batchsize, bool) or not isinstance(batchsize, int) or batchsize < 1:
            raise ValueError(f"batchsize must be an integer >= 1, got {batchsize!r}")
        return self.compose(wds.batched(batchsize, collation_fn=collation_fn, partial=partial))


def shard_dataset(
    source: str | os.PathLike | Sequence[str],
    split: str = "train",
    *,
    shuffle: int = 0,
    resampled: bool = False,
    seed: int = 0,
    epoch: int = 0,
    rank: int | None = None,
    world_size: int | None = None,
    handler: Handler = reraise,
) -> ShardPipeline:
    """Decoded samples of a split's shards (`source`: a job's output or shard folder, or a list of shard paths).

    `shuffle`: a buffer of that many samples (0: shard order, the same on every run); shards are shuffled too.
    `seed`, `epoch`: the seeds of every random choice, per stream (`set_epoch` changes the epoch later).
    `rank`, `world_size`: this node's place among the readers (default: torch.distributed's, else one node).
    """
    urls = list(source) if isinstance(source, (list, tuple)) else shard_urls(source, split)
    if not urls:
        raise FileNotFoundError(f"{source}: no {split} shards")
    if shuffle < 0:
        raise ValueError(f"shuffle must be a buffer size >= 0, got {shuffle}")
    stream = StreamSeeds(seed=seed, epoch=epoch, rank=rank, world_size=world_size)
    stages: list[Any] = [
        _ShardSource(urls, stream, resampled=resampled, shuffle=bool(shuffle)),
        wds.tarfile_to_samples(handler=handler, select_files=_member_allowed),
    ]
    if shuffle:
        stages.append(_SampleShuffle(shuffle, stream))
    stages.append(wds.map(decode_sample, handler=handler))
    return ShardPipeline(*stages, stream=stream)
