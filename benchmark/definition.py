"""A benchmark: a curated dataset's test split plus a protocol, stored in one folder.

    BENCH/benchmark.json        name, protocol (every field), source shards, clips (key, size, rate, frames, camera
                                label), the training-free rows' calibration (noise floor, separation)
    BENCH/clips/KEY.mp4         each test clip, byte for byte the shard's `mp4` member (the reference video)
    BENCH/truth/KEY.npz         its truth from the shard: pose, tracks, visible, track_mask, camera, fgmask (packed),
                                width; read with allow_pickle=False
    BENCH/shards/               the split's shard files and `wids` index, copied (what generation reads)
    BENCH/stats/                reference statistics of the protocol's Fréchet metrics ({name}.{protocol}.{metric}.npz)
    BENCH/rows/ROW/KEY.mp4      the training-free rows' videos, and their results BENCH/rows/ROW.{json,parquet}

The truth is the curation's output (the CPU or learned trackers' tracks, the estimated camera), so real footage
curated by backdrop is as much a benchmark as synthetic clips. The background suite reads it as a `BackgroundTruth`
whose visible points are the shard's `track_mask` (visible and outside the dilated person mask).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmark.metrics.background.truth import BackgroundTruth
from benchmark.protocol import Protocol
from curation.shards.reader import shard_dir, shard_urls
from curation.shards.schema import decode_members
from curation.shards.tar_files import iter_tar, split_member_name
from curation.synthetic.corpus import unpack_mask

__all__ = [
    "BENCHMARK_VERSION",
    "Benchmark",
    "ClipTruth",
    "iter_split_samples",
    "load_benchmark",
    "write_benchmark_clips",
]

BENCHMARK_VERSION = 1
TRUTH_ARRAYS = ("pose", "tracks", "visible", "track_mask", "camera", "fgmask")


@dataclass(frozen=True)
class ClipTruth:
    """One clip's truth as the shard holds it (clip pixels)."""

    key: str
    pose: np.ndarray  # float32 [T, P, 133, 3]
    tracks: np.ndarray  # float32 [T, N, 2]
    visible: np.ndarray  # bool [T, N]
    track_mask: np.ndarray  # bool [T, N]: visible and outside the dilated foreground mask
    camera: np.ndarray  # float32 [T, 3, 3]: frame-0 background pixels -> frame t
    fgmask: np.ndarray  # bool [T, H, W]
    source: str

    @property
    def frames(self) -> int:
        return self.tracks.shape[0]

    def background(self) -> BackgroundTruth:
        """The background suite's view of this truth: the curated tracks, visible where the track mask keeps them."""
        return BackgroundTruth(
            self.tracks.astype(np.float64),
            self.track_mask.astype(bool),
            self.camera.astype(np.float64),
            self.fgmask,
            self.source,
        )


def iter_split_samples(shards: str | os.PathLike, split: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(key, decoded members) of every sample of a split, in shard order; the `mp4` member stays bytes."""
    urls = shard_urls(shards, split)
    if not urls:
        raise FileNotFoundError(f"{shard_dir(shards)}: no {split} shards")
    for url in urls:
        members: dict[str, dict[str, bytes]] = {}
        for name, data in iter_tar(url):
            key, member = split_member_name(name)
            members.setdefault(key, {})[member] = data
        for key in sorted(members):
            yield key, decode_members(members[key])


def _clip_info(meta: dict[str, Any]) -> dict[str, Any]:
    camera = meta.get("camera") or {}
    return {
        "fps": float(meta["fps"]),
        "width": int(meta["width"]),
        "height": int(meta["height"]),
        "frames": int(meta["frames"]),
        "camera_label": camera.get("label"),
        "camera_magnitude": camera.get("magnitude"),
        "source": (meta.get("source") or {}).get("uri"),
    }


def protocol_dict(protocol: Protocol) -> dict[str, Any]:
    fields = dataclasses.asdict(protocol)
    fields["networks"] = dict(protocol.networks)
    fields["weights_sha256"] = {}  # bound when a run loads its weights, never stored with the benchmark
    fields["metrics"] = list(protocol.metrics) if protocol.metrics is not None else None
    return fields


def protocol_from_dict(fields: dict[str, Any]) -> Protocol:
    fields = dict(fields)
    if fields.get("metrics") is not None:
        fields["metrics"] = tuple(fields["metrics"])
    return Protocol(**fields)


def write_benchmark_clips(
    shards: str | os.PathLike,
    out: str | os.PathLike,
    protocol: Protocol,
    *,
    split: str = "test",
    name: str | None = None,
) -> dict[str, Any]:
    """Copy a split's clips and truth out of the shards into OUT (clips/, truth/, shards/); returns the benchmark's
    description (not yet written: `benchmark.json` appears once the training-free rows have calibrated it)."""
    out = Path(out)
    if (out / "benchmark.json").exists():
        raise FileExistsError(f"{out} already holds a benchmark; choose another --out")
    for folder in ("clips", "truth", "shards"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    clips: dict[str, dict[str, Any]] = {}
    for key, sample in iter_split_samples(shards, split):
        meta = sample["json"]
        (out / "clips" / f"{key}.mp4").write_bytes(sample["mp4"])
        arrays = {m: np.asarray(sample[m]) for m in TRUTH_ARRAYS if m != "fgmask"}
        arrays["fgmask"] = np.packbits(np.asarray(sample["fgmask"], bool), axis=-1)
        np.savez(out / "truth" / f"{key}.npz", width=np.int64(meta["width"]), **arrays)
        clips[key] = _clip_info(meta)
    if not clips:
        raise ValueError(f"{shard_dir(shards)}: the {split} split has no clips")
    source = shard_dir(shards)
    for url in shard_urls(shards, split):
        shutil.copyfile(url, out / "shards" / Path(url).name)
    index = source / f"{split}.index.json"
    if index.is_file():
        shutil.copyfile(index, out / "shards" / index.name)
    return {
        "version": BENCHMARK_VERSION,
        "name": name or out.resolve().name,
        "protocol": protocol_dict(protocol),
        "source": {"shards": str(source.resolve()), "split": split},
        "clips": clips,
    }


@dataclass(frozen=True)
class Benchmark:
    """A benchmark folder, read (`load_benchmark`)."""

    path: Path
    info: dict[str, Any]

    @property
    def name(self) -> str:
        return self.info["name"]

    @property
    def protocol(self) -> Protocol:
        return protocol_from_dict(self.info["protocol"])

    @property
    def keys(self) -> list[str]:
        return sorted(self.info["clips"])

    def clip(self, key: str) -> dict[str, Any]:
        return self.info["clips"][key]

    def clip_video(self, key: str) -> Path:
        return self.path / "clips" / f"{key}.mp4"

    def truth_file(self, key: str) -> Path:
        return self.path / "truth" / f"{key}.npz"

    @property
    def shards(self) -> Path:
        return self.path / "shards"

    @property
    def split(self) -> str:
        """The split name of the copied shards (what generation reads)."""
        return self.info["source"]["split"]

    @property
    def stats_dir(self) -> Path:
        return self.path / "stats"

    @property
    def rows_dir(self) -> Path:
        return self.path / "rows"

    def truth(self, key: str) -> ClipTruth:
        path = self.truth_file(key)
        if not path.is_file():
            raise FileNotFoundError(f"benchmark {self.name}: no truth file {path}")
        with np.load(path, allow_pickle=False) as data:
            missing = [m for m in (*TRUTH_ARRAYS, "width") if m not in data.files]
            if missing:
                raise ValueError(f"{path}: not a benchmark truth file, missing {missing}")
            arrays = {m: data[m] for m in TRUTH_ARRAYS}
            width = int(data["width"])
        arrays["fgmask"] = unpack_mask(arrays["fgmask"], width)
        frames = arrays["tracks"].shape[0]
        wrong = [m for m in TRUTH_ARRAYS if arrays[m].shape[0] != frames]
        if wrong:
            raise ValueError(f"{path}: {wrong} do not have the {frames} frames of the tracks")
        return ClipTruth(key=key, source=str(path), **arrays)


def load_benchmark(path: str | os.PathLike) -> Benchmark:
    """The benchmark in folder `path` (written by `backdrop bench define`)."""
    path = Path(path)
    info_path = path / "benchmark.json"
    if not info_path.is_file():
        raise FileNotFoundError(f"{path} is not a benchmark (no benchmark.json; make one with `backdrop bench define`)")
    info = json.loads(info_path.read_text())
    if info.get("version") != BENCHMARK_VERSION:
        raise ValueError(
            f"{info_path}: benchmark version {info.get('version')!r}, this backdrop reads {BENCHMARK_VERSION}"
        )
    return Benchmark(path, info)
