"""Random access to curated shards (map-style training) through the `wids` index written beside them.

    clips = indexed_dataset("out/shards-run", split="train")
    len(clips), clips[3]  # the same decoded dict as `shard_dataset` yields
    loader = torch.utils.data.DataLoader(clips, batch_size=4, shuffle=True, collate_fn=collate_clips)

`wids.ShardListDataset` maps an index to (shard, position) from the `nsamples` of `{split}.index.json` and indexes
each tar once (memory-mapped) when first used, keeping `lru_size` shards open. The index is data too, so it is not
handed to wids as a descriptor (wids would follow `pipe:` urls and remote references in it): this module reads it
(shard names checked by `shard_urls`) and gives wids the plain shard list. Each shard's member names are checked
before any sample is read, its sample count must match the index, and every sample goes through the streaming
path's `decode_sample` (keys, members, schema version), so both paths yield identical samples.

wids fetches every shard to a local name under a lock file beside it (made for remote shards); here the local name
is a symbolic link in a private temporary folder, so nothing is copied and the shard folder may be read-only.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
import wids

from curation.shards.reader import decode_sample, shard_dir, shard_urls
from curation.shards.schema import SchemaError
from curation.shards.tar_files import check_member_name


class _LinkedLocalname:
    """wids's `localname`: the local file of a shard url is a link to it in a private folder (see above)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.gettempdir()) / f"backdrop-wids-{os.getuid()}"

    def __call__(self, url: str) -> str:
        self.folder.mkdir(mode=0o700, exist_ok=True)
        target = os.path.abspath(url)
        link = self.folder / f"{hashlib.sha256(target.encode()).hexdigest()[:24]}-{os.path.basename(target)}"
        with contextlib.suppress(FileExistsError):
            link.symlink_to(target)
        if os.readlink(link) != target:
            raise RuntimeError(f"{link} links to {os.readlink(link)}, not {target}")
        return str(link)


class IndexedShards(torch.utils.data.Dataset):
    """A split's samples by index, decoded as `curation.shards.reader.shard_dataset` decodes them."""

    def __init__(self, urls: list[str], counts: list[int], *, lru_size: int = 10) -> None:
        if len(urls) != len(counts) or not urls:
            raise ValueError("give one sample count per shard, and at least one shard")
        self.shards = [{"url": url, "nsamples": int(n)} for url, n in zip(urls, counts, strict=True)]
        self.lru_size = lru_size
        self._wids: wids.ShardListDataset | None = None
        self._owner: int | None = None
        self._checked: set[str] = set()

    def _dataset(self) -> wids.ShardListDataset:
        # Open shards are memory maps, which do not cross processes: each DataLoader worker opens its own.
        if self._wids is None or self._owner != os.getpid():
            with contextlib.redirect_stderr(io.StringIO()):  # wids prints a summary line on every construction
                self._wids = wids.ShardListDataset(
                    self.shards, localname=_LinkedLocalname(), lru_size=self.lru_size, transformations=[]
                )
            self._owner, self._checked = os.getpid(), set()
        return self._wids

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_wids": None, "_owner": None, "_checked": set()}

    def __len__(self) -> int:
        return sum(shard["nsamples"] for shard in self.shards)

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"sample {index} of {len(self)}")
        index = index % len(self)
        dataset = self._dataset()
        shard, inner, desc = dataset.get_shard(index)
        url = desc["url"]
        if url not in self._checked:  # once per opened shard, before any of its data is used
            for name in shard.reader.names():
                check_member_name(name, url)
            if len(shard) != desc["nsamples"]:
                raise SchemaError(f"{url}: holds {len(shard)} samples, its index says {desc['nsamples']}")
            self._checked.add(url)
        raw = shard[inner]
        # wids names members by their suffix with its dot (`.pose.npy`) as file objects; the streaming path's
        # decoder takes WebDataset's form (`pose.npy` -> bytes)
        sample: dict[str, Any] = {"__key__": raw["__key__"], "__url__": url}
        for name, value in raw.items():
            if not name.startswith("__"):
                sample[name.removeprefix(".")] = value.read() if hasattr(value, "read") else value
        return decode_sample(sample)


def indexed_dataset(path: str | os.PathLike, split: str = "train", *, lru_size: int = 10) -> IndexedShards:
    """Random access to a split's samples (`path`: a job's output or shard folder) from its `wids` index."""
    index = shard_dir(path) / f"{split}.index.json"
    if not index.is_file():
        raise FileNotFoundError(f"{index}: no {split} shard index (written by packing beside the shards)")
    entries = json.loads(index.read_text())["shardlist"]
    urls = shard_urls(path, split)  # the same names, checked, as absolute paths: the streaming path's `__url__`
    counts = [entry["nsamples"] for entry in entries]
    for count in counts:
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise SchemaError(f"{index}: refusing sample count {count!r}")
    return IndexedShards(urls, counts, lru_size=lru_size)
