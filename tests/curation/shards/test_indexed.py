"""Random access through the wids index: the same decoded samples as the streaming reader, in index order, with
member names, sample counts and schema versions checked as the streaming path checks them."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
import torch

from curation.shards.batching import collate_clips
from curation.shards.indexed import indexed_dataset
from curation.shards.reader import shard_dataset, shard_urls
from curation.shards.schema import SchemaError
from curation.shards.tar_files import TarMemberError, iter_tar


def _same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name, value in a.items():
        if isinstance(value, torch.Tensor):
            assert value.dtype == b[name].dtype and torch.equal(value, b[name]), name
        else:
            assert value == b[name], name


def test_random_access_equals_the_streaming_decode(reference_run: Path) -> None:
    for split in ("train", "test"):
        streamed = list(shard_dataset(reference_run, split))
        clips = indexed_dataset(reference_run, split)
        assert len(clips) == len(streamed)
        for i in reversed(range(len(clips))):  # any order: shards are indexed, not streamed
            _same(clips[i], streamed[i])
        _same(clips[-1], streamed[-1])
        with pytest.raises(IndexError):
            clips[len(clips)]
    clips = indexed_dataset(reference_run / "shards", "train")
    loader = torch.utils.data.DataLoader(clips, batch_size=2, num_workers=2, collate_fn=collate_clips)
    keys = [key for batch in loader for key in batch["__key__"]]
    assert keys == [s["__key__"] for s in shard_dataset(reference_run, "train")]


def test_a_read_only_shard_folder_is_read_in_place(reference_run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "shards"
    shutil.copytree(reference_run / "shards", folder)
    folder.chmod(0o555)
    before = folder.stat().st_mtime_ns
    try:
        clips = indexed_dataset(folder, "test")
        assert [clips[i]["__key__"] for i in range(len(clips))] == [s["__key__"] for s in shard_dataset(folder, "test")]
        assert folder.stat().st_mtime_ns == before  # no lock file made and removed beside the shards (even as root)
    finally:
        folder.chmod(0o755)


def _copy_index(reference_run: Path, folder: Path, change) -> None:
    shutil.copytree(reference_run / "shards", folder)
    index = folder / "test.index.json"
    index.write_text(json.dumps(change(json.loads(index.read_text()))))


def test_bad_indexes_and_shards_are_refused(reference_run: Path, tmp_path: Path) -> None:
    def escape(index: dict) -> dict:
        index["shardlist"][0]["url"] = "pipe:cat /etc/passwd"
        return index

    _copy_index(reference_run, tmp_path / "escape", escape)
    with pytest.raises(SchemaError, match="refusing shard name"):
        indexed_dataset(tmp_path / "escape", "test")

    def miscount(index: dict) -> dict:
        index["shardlist"][0]["nsamples"] += 1
        return index

    _copy_index(reference_run, tmp_path / "miscount", miscount)
    with pytest.raises(SchemaError, match="its index says"):
        indexed_dataset(tmp_path / "miscount", "test")[0]
    with pytest.raises(FileNotFoundError, match="no valid shard index"):
        indexed_dataset(tmp_path / "miscount", "valid")

    folder = tmp_path / "renamed"
    shutil.copytree(reference_run / "shards", folder)
    shard = Path(shard_urls(folder, "test")[0])
    members = list(iter_tar(shard))
    with tarfile.open(shard, mode="w", format=tarfile.USTAR_FORMAT) as tar:  # a name `write_tar` would refuse
        for name, data in members:
            info = tarfile.TarInfo(f"sub/{name}" if name.endswith(".json") else name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(TarMemberError, match="refusing member"):
        indexed_dataset(folder, "test")[0]
