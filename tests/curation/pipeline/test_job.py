"""The job without Ray: resumption, determinism, per-source split, manifest, safe tar reading, rotated sources."""

from __future__ import annotations

import io
import json
import struct
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from curation.config import config_from_dict
from curation.pipeline.job import run_job, sequential_engine
from curation.shards.ledger import JobLockedError, job_lock
from curation.shards.split import split_of
from curation.shards.tar_files import TarMemberError, iter_tar
from curation.video.encode import write_mp4
from curation.video.reader import iter_resampled, probe_video
from curation.video.source_lists import resolve_sources
from tests.helpers.jobs import OPTIONS, TINY_CONFIG, shard_contents


def test_resume_skips_finished_sources_and_repacks_the_same(
    tiny_corpus: Path, reference_run: Path, tmp_path: Path
) -> None:
    sources = resolve_sources([tiny_corpus])
    engine = sequential_engine(config_from_dict(TINY_CONFIG))
    out = tmp_path / "out"
    run_job(sources[:3], out, engine, OPTIONS)  # an earlier, partial run
    summary = run_job(sources, out, engine, OPTIONS)
    assert summary.skipped == 3 and summary.clips_this_run == 5
    assert shard_contents(out) == shard_contents(reference_run)
    for shard in (reference_run / "shards").glob("*"):
        assert (out / "shards" / shard.name).read_bytes() == shard.read_bytes()


def test_resume_removes_what_a_killed_job_left_half_written(
    tiny_corpus: Path, reference_run: Path, tmp_path: Path
) -> None:
    sources = resolve_sources([tiny_corpus])
    engine = sequential_engine(config_from_dict(TINY_CONFIG))
    out = tmp_path / "out"
    run_job(sources[:2], out, engine, OPTIONS)
    # what a SIGKILL inside atomic_write leaves: hidden temporaries whose writer is gone
    left = [
        out / "work" / "units" / ".0123456789abcdef.tar.4242.partial",
        out / "shards" / ".train-000000.tar.4242.partial",
        out / ".manifest.parquet.4242.partial",
    ]
    for path in left:
        path.write_bytes(b"half a tar")
    ledger = out / "work" / "ledger.jsonl"
    with open(ledger, "ab") as handle:
        handle.write(b'{"path": "/cut/short", "si')  # a line the kill cut short
    run_job(sources, out, engine, OPTIONS)
    lines = ledger.read_text().splitlines()
    assert len(lines) == len(sources) and all(json.loads(line)["unit"] for line in lines)
    assert not [p for p in left if p.exists()]
    assert not list(out.rglob("*.partial"))
    assert shard_contents(out) == shard_contents(reference_run)


def test_a_second_job_on_the_same_folder_is_refused(tiny_corpus: Path, tmp_path: Path) -> None:
    sources = resolve_sources([tiny_corpus])
    out = tmp_path / "out"
    with job_lock(out):
        with pytest.raises(JobLockedError, match="another curation job is writing"):
            run_job(sources, out, sequential_engine(config_from_dict(TINY_CONFIG)), OPTIONS)
    assert not (out / "shards").exists()
    run_job(sources[:1], out, sequential_engine(config_from_dict(TINY_CONFIG)), OPTIONS)  # free once released


def test_manifest_and_split_per_source(reference_run: Path) -> None:
    manifest = pd.read_parquet(reference_run / "manifest.parquet")
    assert manifest["key"].is_unique and len(manifest) == 8
    for row in manifest.itertuples():
        assert row.split == split_of(row.source_id, OPTIONS.test_fraction)
        assert row.shard.startswith(row.split + "-")
    assert {"status", "reason", "camera_label", "score_sharpness"} <= set(manifest.columns)


def test_tar_reader_refuses_unsafe_names(tmp_path: Path) -> None:
    for name in ("../evil.json", "/abs.json", "dir/key.json", "key"):
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(name)
            info.size = 2
            tar.addfile(info, io.BytesIO(b"{}"))
        path = tmp_path / "bad.tar"
        path.write_bytes(buffer.getvalue())
        with pytest.raises(TarMemberError, match="refusing member"):
            list(iter_tar(path))


def test_rotated_source_is_probed_at_its_display_size(tmp_path: Path) -> None:
    coded = np.zeros((48, 64, 3), np.uint8)
    coded[:16, :16] = 255  # top-left of the coded picture
    path = tmp_path / "rotated.mp4"
    write_mp4(path, [coded] * 3, fps=24)
    data = bytearray(path.read_bytes())
    identity = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    quarter = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)  # display matrix: 90 degrees
    at = data.find(identity, data.find(b"tkhd"))
    data[at : at + 36] = quarter
    path.write_bytes(bytes(data))
    info = probe_video(path)
    assert (info.width, info.height, info.rotation) == (48, 64, 90)
    frame = next(iter(iter_resampled(path))).rgb
    assert frame.shape == (64, 48, 3) and frame[:8, -8:].mean() > 128  # shown turned clockwise
