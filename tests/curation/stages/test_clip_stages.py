"""The stage layer end to end with the sequential runner: clip records, failures as data, schema-v1 members,
filters, `backdrop inspect`."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from curation.config import config_from_dict
from curation.overlay import legend_layout
from curation.pipeline.sequential import StageTimes, run_sequential
from curation.quality.scores import WEIGHTS_FREE_SCORES
from curation.record import FAILED, OK, REJECTED
from curation.resources import Resources
from curation.shards.schema import SchemaError, decode_members, encode_members
from curation.stages import CameraStage, ClipStage
from curation.video.reader import read_video
from jobs.cli import cli

#: The test corpus is 24 frames at 24 fps: one clip per video.
CONFIG = config_from_dict({"clips": {"frames": 24}, "tracks": {"grid_step": 16}})


@pytest.fixture(scope="module")
def records(small_corpus):
    times = StageTimes()
    videos = [small_corpus[i]["video"] for i in (0, 3)]
    out = list(run_sequential(videos, CONFIG, raise_errors=True, times=times))
    return out, times, [small_corpus[i] for i in (0, 3)]


def test_runner_produces_every_output(records):
    out, times, clips = records
    assert [r["status"] for r in out] == [OK, OK]
    for record, clip in zip(out, clips, strict=True):
        gt = clip["gt"]
        assert record["frames"].shape == clip["rgb"].shape
        np.testing.assert_allclose(record["pose"], gt["keypoints"], atol=1e-4)  # sidecar pose, same pixels
        assert record["camera_label"] == clip["meta"]["camera_label"]
        n = record["tracks"].shape[1]
        assert record["visible"].shape == record["track_mask"].shape == (24, n)
        assert not (record["track_mask"] & ~record["visible"]).any()
        assert set(record["backends"]) == {
            "decode",
            "pose",
            "foreground",
            "tracks",
            "camera",
            "quality",
            "filter",
            "encode",
        }
        assert record["key"] == f"{record['source_id']}-0000"
        assert record["scores"]["musiq"] is None and "not found" in record["scores_missing"]["musiq"]
        # the names a filter may use are exactly the scores computed (the config's check at load relies on it)
        assert set(record["scores"]) == {*WEIGHTS_FREE_SCORES, *CONFIG.quality.pyiqa}
    assert times.clips == 2 and set(times.seconds) >= {"decode", "tracks", "encode"}


def test_keys_depend_on_content_only(records, small_corpus, tmp_path):
    out, _, clips = records
    copy = tmp_path / "renamed video ü.mp4"
    shutil.copy(clips[0]["video"], copy)
    shutil.copy(clips[0]["video"].with_name(f"{clips[0]['name']}.gt.npz"), tmp_path / "renamed video ü.gt.npz")
    again = list(run_sequential([copy], CONFIG, raise_errors=True))
    assert again[0]["key"] == out[0]["key"]
    assert again[0]["mp4"] == out[0]["mp4"]  # the same frames encode to the same bytes


def test_members_round_trip(records):
    record = records[0][0]
    members = encode_members(record)
    decoded = decode_members(members)
    assert decoded["mp4"] == record["mp4"]
    for field in ("pose", "tracks", "visible", "track_mask", "camera", "fgmask"):
        np.testing.assert_array_equal(decoded[field], record[field])
    assert decoded["fgmask"].dtype == bool
    assert decoded["pose"].dtype == np.float32 and decoded["camera"].shape == (24, 3, 3)
    meta = decoded["json"]
    assert meta["schema_version"] == 1 and meta["frames"] == 24 and meta["camera"]["label"] == record["camera_label"]
    np.testing.assert_array_equal(read_video(decoded["mp4"]).shape, record["frames"].shape)
    bumped = dict(members, json=json.dumps(meta | {"schema_version": 2}).encode())
    with pytest.raises(SchemaError, match="schema version 2"):
        decode_members(bumped)
    with pytest.raises(SchemaError, match="lacks"):
        decode_members({k: v for k, v in members.items() if k != "camera.npy"})


def test_filters_reject_with_reasons(small_corpus):
    config = config_from_dict(
        {
            "clips": {"frames": 24},
            "filters": [
                {"score": "person_count", "max": 1},
                {"exclude_camera_labels": ["static"]},
                {"score": "musiq", "min": 50},
            ],
        }
    )
    out = list(run_sequential([small_corpus[0]["video"]], config, raise_errors=True))
    record = out[0]
    persons = record["scores"]["person_count"]
    label = record["camera_label"]
    expected = []
    if persons > 1:
        expected.append(f"person_count {persons:.4g} > max 1")
    if label == "static":
        expected.append("camera label static excluded")
    assert record["filter"]["reasons"] == expected
    assert record["filter"]["skipped"] == ["musiq not computed"]
    assert record["status"] == (REJECTED if expected else OK)
    assert ("mp4" in record) == (not expected)  # a rejected clip is not encoded


def test_failure_is_data_and_other_sources_go_on(small_corpus, tmp_path):
    no_sidecar = tmp_path / "alone.mp4"
    shutil.copy(small_corpus[1]["video"], no_sidecar)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video at all" * 100)
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    missing = tmp_path / "missing.mp4"
    sources = [no_sidecar, garbage, empty, missing, small_corpus[2]["video"]]
    sidecar_only = config_from_dict({"clips": {"frames": 24}, "pose": {"backend": "sidecar"}})
    out = list(run_sequential(sources, sidecar_only))
    by_source = {r["source"]: r for r in out}
    assert len(out) == 5
    assert by_source[str(no_sidecar)]["status"] == FAILED and by_source[str(no_sidecar)]["stage"] == "pose"
    assert "no pose sidecar" in by_source[str(no_sidecar)]["reason"]
    garbage_reason = by_source[str(garbage)]["reason"]
    assert "not a video container" in garbage_reason and str(garbage) in garbage_reason
    assert "empty file" in by_source[str(empty)]["reason"]
    assert "cannot read" in by_source[str(missing)]["reason"]
    assert by_source[str(small_corpus[2]["video"])]["status"] == OK


def test_a_crashing_stage_is_recorded_or_raised():
    class Broken(ClipStage):
        name = "broken"
        resources = Resources(cpus=0.5, gpus=0.25, memory_gb=2)

        def process(self, record):
            raise RuntimeError("boom")

    record = Broken()({"key": "k", "status": OK})
    assert record["status"] == FAILED and record["stage"] == "broken" and "RuntimeError: boom" in record["reason"]
    assert Broken()({"key": "k", "status": FAILED, "stage": "x", "reason": "y"})["reason"] == "y"  # passes through
    with pytest.raises(RuntimeError, match="boom"):
        Broken(raise_errors=True)({"key": "k", "status": OK})
    assert Broken.resources.as_ray_options() == {"num_cpus": 0.5, "num_gpus": 0.25, "memory": 2 * 2**30}
    assert CameraStage.resources.gpus == 0
    with pytest.raises(ValueError):
        Resources(cpus=-1)


def test_inspect_writes_results_and_overlay(small_corpus, tmp_path):
    clip = small_corpus[4]
    config = tmp_path / "curation.yaml"
    config.write_text("clips: {frames: 24}\n")
    result = CliRunner().invoke(
        cli, ["inspect", str(clip["video"]), "--out", str(tmp_path / "out"), "--config", str(config)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    (row,) = summary["clips"]
    key = row["key"]
    assert row["status"] == OK and row["camera_label"] == clip["meta"]["camera_label"]
    for member in (
        "mp4",
        "json",
        "pose.npy",
        "tracks.npy",
        "visible.npy",
        "track_mask.npy",
        "fgmask.npy",
        "camera.npy",
        "overlay.mp4",
    ):
        assert (tmp_path / "out" / f"{key}.{member}").is_file(), member
    overlay = read_video(tmp_path / "out" / f"{key}.overlay.mp4")
    frames, height, width = clip["rgb"].shape[:3]
    _, panel = legend_layout(width)
    assert overlay.shape == (frames, height + panel, width, 3)  # the clip, and the label and legend panel below it
    assert np.abs(overlay[:, :height].astype(int) - clip["rgb"]).mean() > 3  # something was drawn


def test_inspect_reports_bad_input(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 64)
    config = tmp_path / "bad.yaml"
    config.write_text("clips: {frame: 24}\n")
    result = CliRunner().invoke(cli, ["inspect", str(bad), "--out", str(tmp_path / "o"), "--config", str(config)])
    assert result.exit_code != 0 and "unknown keys ['frame']" in result.output
    result = CliRunner().invoke(cli, ["inspect", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "broken.mp4" in result.output
