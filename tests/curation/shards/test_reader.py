"""Reading shards back for training: every sample of a curated tiny corpus as tensors equal to its members, across
DataLoader workers and resampled; unknown schema versions and unsafe names refused; `backdrop shards inspect`."""

from __future__ import annotations

import io
import itertools
import json
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from curation.overlay import legend_layout
from curation.shards.reader import decode_sample, shard_dataset, shard_urls, warn_and_skip
from curation.shards.schema import SchemaError, decode_members
from curation.shards.tar_files import TarMemberError, iter_tar, write_tar
from curation.video.reader import read_video
from jobs.cli import cli
from tests.helpers.jobs import shard_samples


def test_every_sample_reads_back_as_its_members(reference_run: Path, tmp_path: Path) -> None:
    raw = shard_samples(reference_run)
    manifest = pd.read_parquet(reference_run / "manifest.parquet")
    read = {s["__key__"]: s for split in ("train", "test") for s in shard_dataset(reference_run, split)}
    assert set(read) == set(raw) == set(manifest.loc[manifest["status"] == "ok", "key"])
    for key, sample in read.items():
        members = decode_members(raw[key])
        meta = members["json"]
        assert sample["json"] == meta
        t, h, w = meta["frames"], meta["height"], meta["width"]
        assert sample["frames"].dtype == torch.uint8 and sample["frames"].shape == (t, h, w, 3)
        clip = tmp_path / f"{key}.mp4"
        clip.write_bytes(raw[key]["mp4"])
        assert np.array_equal(sample["frames"].numpy(), read_video(clip))
        assert sample["fgmask"].dtype == torch.bool and sample["fgmask"].shape == (t, h, w)
        assert sample["pose"].dtype == torch.float32
        assert sample["pose"].shape[0] == t and sample["pose"].shape[2:] == (133, 3)
        assert sample["visible"].dtype == sample["track_mask"].dtype == torch.bool
        assert sample["camera"].shape == (t, 3, 3)
        for name in ("pose", "tracks", "visible", "track_mask", "fgmask", "camera"):
            assert np.array_equal(sample[name].numpy(), members[name]), (key, name)


def test_workers_share_the_shards_and_resampling_draws(reference_run: Path) -> None:
    urls = shard_urls(reference_run, "train")
    assert len(urls) >= 2, "the tiny corpus should fill at least two train shards"
    loader = torch.utils.data.DataLoader(
        shard_dataset(reference_run, "train", shuffle=8), num_workers=2, batch_size=None
    )
    keys = [sample["__key__"] for sample in loader]
    expected = [s["__key__"] for s in shard_dataset(reference_run, "train")]
    assert sorted(keys) == sorted(expected) and len(keys) == len(set(keys))  # once each over both workers
    drawn = [s["__key__"] for s in itertools.islice(shard_dataset(reference_run, "train", resampled=True), 12)]
    assert len(drawn) == 12 and set(drawn) <= set(expected)  # endless: more draws than samples


def _rewrite(shard: Path, out: Path, change) -> None:
    members = [change(name, data) for name, data in iter_tar(shard)]
    with open(out, "wb") as handle:
        write_tar(handle, members)


def test_unknown_schema_version_is_refused(reference_run: Path, tmp_path: Path) -> None:
    shard = Path(shard_urls(reference_run, "train")[0])
    bumped = tmp_path / "train-000000.tar"
    first = next(iter_tar(shard))[0].split(".")[0]

    def bump(name: str, data: bytes) -> tuple[str, bytes]:
        if name == f"{first}.json":
            data = json.dumps(json.loads(data) | {"schema_version": 2}).encode()
        return name, data

    _rewrite(shard, bumped, bump)
    with pytest.raises(SchemaError, match="schema version 2"):
        list(shard_dataset([str(bumped)]))
    kept = [s["__key__"] for s in shard_dataset([str(bumped)], handler=warn_and_skip)]
    assert first not in kept and len(kept) == len(list(shard_dataset([str(shard)]))) - 1


def test_unsafe_names_are_refused(tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        info = tarfile.TarInfo("../0123456789abcdef-0000.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    with pytest.raises(TarMemberError, match="refusing member"):
        list(shard_dataset([str(evil)]))
    with pytest.raises(SchemaError, match="refusing sample key"):
        decode_sample({"__key__": "not-a-key", "json": b"{}"})


def test_shards_inspect_summary_and_overlay(reference_run: Path, tmp_path: Path) -> None:
    manifest = pd.read_parquet(reference_run / "manifest.parquet")
    key = manifest.loc[manifest["status"] == "ok", "key"].iloc[-1]
    overlay = tmp_path / "overlay.mp4"
    result = CliRunner().invoke(
        cli, ["shards", "inspect", str(reference_run), "--key", key, "--overlay", str(overlay)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    kept = manifest[manifest["status"] == "ok"]
    for split in ("train", "test"):
        shards, samples = len(shard_urls(reference_run, split)), int((kept["split"] == split).sum())
        assert f"{split}: {shards} shards, {samples} samples" in text
    for label in manifest.loc[manifest["status"] == "ok", "camera_label"].unique():
        assert label in text
    assert f"ok {len(kept)}" in text and key in text
    frames = read_video(overlay)
    assert frames.shape[0] == 24 and frames.shape[1:3] == (128 + legend_layout(128)[1], 128)  # clip + label panel
    missing = CliRunner().invoke(cli, ["shards", "inspect", str(reference_run), "--key", "ffffffffffffffff-0000"])
    assert missing.exit_code != 0 and "ffffffffffffffff-0000" in missing.output


def test_a_refused_npy_member_names_the_sample_and_shard_and_inspect_answers_in_one_line(
    reference_run: Path, tmp_path: Path
) -> None:
    shard = Path(shard_urls(reference_run, "train")[0])
    folder = tmp_path / "out" / "shards"
    folder.mkdir(parents=True)
    pickled = folder / "train-000000.tar"
    first = next(iter_tar(shard))[0].split(".")[0]
    objects = io.BytesIO()
    np.save(objects, np.array([{"a": 1}], dtype=object), allow_pickle=True)  # what allow_pickle=False refuses

    def poison(name: str, data: bytes) -> tuple[str, bytes]:
        return name, objects.getvalue() if name == f"{first}.pose.npy" else data

    _rewrite(shard, pickled, poison)
    with pytest.raises(SchemaError) as refused:
        list(shard_dataset([str(pickled)]))
    message = str(refused.value)
    assert str(pickled) in message and first in message and "pose.npy" in message and "allow_pickle" in message
    result = CliRunner().invoke(cli, ["shards", "inspect", str(folder), "--key", first])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert first in result.output and "pose.npy refused" in " ".join(result.output.split())
