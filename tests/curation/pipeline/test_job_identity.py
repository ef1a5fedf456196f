"""The job's identity: recorded in the folder, the manifest and every sample; a re-run under other settings (the
split's fraction included) refused with the differences named; overwrite and extend as video2dataset's users know
them."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from curation.config import config_from_dict
from curation.pipeline.job import run_job, sequential_engine
from curation.pipeline.job_identity import IDENTITY_FILE, JobIdentity, SettingsMismatchError, read_identity
from curation.shards.packing import read_manifest_metadata
from tests.helpers.jobs import OPTIONS, TINY_CONFIG, shard_contents, shard_samples

SHORT_CONFIG = {**TINY_CONFIG, "clips": {**TINY_CONFIG["clips"], "frames": 16}}


def _run(sources: list[str], out: Path, config: dict = TINY_CONFIG, **options) -> object:
    return run_job(sources, out, sequential_engine(config_from_dict(config)), dataclasses.replace(OPTIONS, **options))


def _folder_bytes(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file() and "lock" not in p.name
    }


def test_identity_is_recorded_in_folder_manifest_and_samples(reference_run: Path) -> None:
    held = read_identity(reference_run)
    expected = JobIdentity.of(config_from_dict(TINY_CONFIG), OPTIONS.test_fraction)
    assert held["settings_sha256"] == expected.settings_sha256 and held["settings"] == expected.settings
    assert held["settings"]["split"]["test_fraction"] == OPTIONS.test_fraction
    assert held["settings"]["curation"]["clips"]["frames"] == 24
    assert held["sources"] == 8 and held["backends"]["tracks"][0].startswith("opencv-lk ")
    manifest = pd.read_parquet(reference_run / "manifest.parquet")
    assert held["counts"]["clips"] == manifest["status"].value_counts().to_dict()
    assert read_manifest_metadata(reference_run / "manifest.parquet") == held
    samples = shard_samples(reference_run)
    assert samples and all(
        json.loads(s["json"])["job"]
        == {"settings_sha256": expected.settings_sha256, "backdrop_version": held["backdrop_version"]}
        for s in samples.values()
    )


def test_rerun_with_other_settings_is_refused_naming_the_differences(tiny_corpus: Path, tmp_path: Path) -> None:
    sources = sorted(str(p) for p in tiny_corpus.glob("*.mp4"))
    out = tmp_path / "out"
    _run(sources[:3], out)
    before = _folder_bytes(out)
    with pytest.raises(SettingsMismatchError) as error:
        _run(sources[:3], out, SHORT_CONFIG)
    assert "Differences (folder -> this job): curation.clips.frames: 24 -> 16." in str(error.value)
    with pytest.raises(SettingsMismatchError, match=r"split\.test_fraction: 0\.3 -> 0\.1"):
        _run(sources, out, test_fraction=0.1)  # the split is part of the settings
    with pytest.raises(SettingsMismatchError, match=r"curation\.clips\.frames: 24 -> 16; split\.test_fraction"):
        _run(sources[:3], out, SHORT_CONFIG, mode="extend", test_fraction=0.1)
    assert _folder_bytes(out) == before  # a refused run changes nothing
    # the same settings resume; a different shard size only re-packs the same clips
    summary = _run(sources[:3], out, shard_mb=1.0)
    assert summary.skipped == 3 and summary.clips_this_run == 0


def test_overwrite_keeps_only_the_new_clips(tiny_corpus: Path, tmp_path: Path) -> None:
    sources = sorted(str(p) for p in tiny_corpus.glob("*.mp4"))
    out = tmp_path / "out"
    _run(sources[:3], out)
    (out / "notes.txt").write_text("the user's own file")
    summary = _run(sources[:2], out, SHORT_CONFIG, mode="overwrite")
    assert summary.skipped == 0 and summary.clips_this_run == 2
    manifest = pd.read_parquet(out / "manifest.parquet")
    assert len(manifest) == 2 and set(manifest["frames"]) == {16}
    new = JobIdentity.of(config_from_dict(SHORT_CONFIG), OPTIONS.test_fraction).settings_sha256
    assert read_identity(out)["settings_sha256"] == new
    assert {json.loads(s["json"])["job"]["settings_sha256"] for s in shard_samples(out).values()} == {new}
    assert len(list((out / "work" / "units").glob("*.tar"))) == 2  # the old units are gone
    assert len((out / "work" / "ledger.jsonl").read_text().splitlines()) == 2
    assert (out / "notes.txt").read_text() == "the user's own file"


def test_extend_adds_sources_and_keeps_old_clips_byte_identical(
    tiny_corpus: Path, reference_run: Path, tmp_path: Path
) -> None:
    sources = sorted(str(p) for p in tiny_corpus.glob("*.mp4"))
    out = tmp_path / "out"
    _run(sources[:5], out)
    old = shard_samples(out)
    units = {p.name: p.read_bytes() for p in (out / "work" / "units").glob("*.tar")}
    summary = _run(sources[5:], out, mode="extend")  # only the new sources are listed
    assert summary.kept_from_folder == 5 and summary.clips_this_run == 3
    new = shard_samples(out)
    assert all(new[key] == members for key, members in old.items())  # old clips byte for byte
    assert all((out / "work" / "units" / name).read_bytes() == data for name, data in units.items())
    # re-packed deterministically: the same shards, byte for byte, as one run over every source
    assert shard_contents(out) == shard_contents(reference_run)
    for shard in (reference_run / "shards").glob("*.tar"):
        assert (out / "shards" / shard.name).read_bytes() == shard.read_bytes()
    assert read_identity(out)["sources"] == 8


def test_resume_with_fewer_sources_says_what_it_leaves_out(
    tiny_corpus: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sources = sorted(str(p) for p in tiny_corpus.glob("*.mp4"))
    out = tmp_path / "out"
    _run(sources[:3], out)
    with caplog.at_level(logging.WARNING):
        summary = _run(sources[:2], out)
    assert summary.left_out == 1 and "holds 1 curated sources that this run does not list" in caplog.text
    assert pd.read_parquet(out / "manifest.parquet")["source"].nunique() == 2


def test_a_folder_without_recorded_settings_is_refused(tiny_corpus: Path, tmp_path: Path) -> None:
    sources = sorted(str(p) for p in tiny_corpus.glob("*.mp4"))
    out = tmp_path / "out"
    _run(sources[:1], out)
    (out / IDENTITY_FILE).unlink()  # as a folder made before settings were recorded
    with pytest.raises(SettingsMismatchError, match=r"holds curated sources but no job_identity\.json"):
        _run(sources[:1], out)
    _run(sources[:1], out, mode="overwrite")
    assert read_identity(out) is not None
