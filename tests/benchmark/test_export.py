"""Inputs for outside models: the export formats, and the round trip (export, then score the exported driving
frames as if a model returned them: the ground-truth row, exactly)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import yaml

from benchmark.evaluation import match_videos, score_videos
from benchmark.export import export_benchmark
from benchmark.video import read_video
from curation.person.pose_render import render_clip


def _values(rows) -> dict[str, float]:
    return {r.metric: r.value for r in rows}


def _ground_truth_row(bench) -> dict[str, dict]:
    return {r["metric"]: r for r in json.loads((bench.rows_dir / "ground-truth.json").read_text())}


def test_export_then_score_the_driving_frames_gives_the_ground_truth_row(bench, tmp_path):
    out = export_benchmark(bench, tmp_path / "plain", "plain")
    returned = tmp_path / "returned"
    returned.mkdir()
    for key in bench.keys:
        frames = np.load(out / key / "frames.npy", allow_pickle=False)
        assert frames.shape == (24, 256, 256, 3) and frames.dtype == np.uint8
        np.save(returned / f"{key}.npy", frames, allow_pickle=False)
        for name in ("pose", "tracks", "visible", "track_mask", "camera", "fgmask"):
            np.testing.assert_array_equal(np.load(out / key / f"{name}.npy"), getattr(bench.truth(key), name))
    rows = score_videos(bench, returned, model="returned")
    truth = _ground_truth_row(bench)
    assert _values(rows) == {m: pytest.approx(r["value"], rel=1e-12, abs=1e-12) for m, r in truth.items()}
    for r in rows:
        assert r.per_video == pytest.approx(truth[r.metric]["per_video"], rel=1e-12, abs=1e-12)
    info = json.loads((out / "export.json").read_text())
    assert info["benchmark"] == bench.name and sorted(info["clips"]) == bench.keys


def test_animateanyone_export_is_what_moore_animateanyone_reads(bench, tmp_path):
    out = export_benchmark(bench, tmp_path / "aa", "tracks")
    key = bench.keys[1]
    clip, truth = bench.clip(key), bench.truth(key)
    reference = read_video(bench.clip_video(key))
    pose = read_video(out / "pose_videos" / f"{key}_kps.mp4")
    assert pose.shape == (clip["frames"], clip["height"], clip["width"], 3)
    rendered = render_clip(truth.pose, (clip["width"], clip["height"]))
    assert np.abs(pose.astype(int) - rendered).mean() < 3.0  # the skeletons, through H.264
    import cv2

    png = cv2.cvtColor(cv2.imread(str(out / "ref_images" / f"{key}.png")), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(png, reference[0])
    config = yaml.safe_load((out / "animation-256x256-24.yaml").read_text())
    assert config["test_cases"][f"./ref_images/{key}.png"] == [f"./pose_videos/{key}_kps.mp4"]
    assert len(config["test_cases"]) == len(bench.keys) and "denoising_unet_path" in config
    assert "-W 256 -H 256 -L 24" in (out / "commands.sh").read_text()
    with np.load(out / "tracks" / f"{key}.npz", allow_pickle=False) as tracks:
        masked = tracks["masked_tracks"]
        assert np.isnan(masked[~truth.track_mask]).all()
        np.testing.assert_array_equal(masked[truth.track_mask], truth.tracks[truth.track_mask])
    with pytest.raises(ValueError, match="format"):
        export_benchmark(bench, tmp_path / "x", "gif")


def test_their_three_panel_outputs_are_matched_by_key_and_cropped(bench, tmp_path):
    """Moore-AnimateAnyone's script writes `{ref}_{pose}_{H}x{W}_{cfg}_{time}.mp4` with reference | pose |
    generated side by side (2 px padding): matched by key, the last panel scored."""
    returned = tmp_path / "moore"
    returned.mkdir()
    for key in bench.keys:
        frames = read_video(bench.clip_video(key))
        t, h, w, _ = frames.shape
        grid = np.zeros((t, h + 4, 3 * (w + 2) + 2, 3), np.uint8)
        grid[:, 2 : 2 + h, 2 : 2 + w] = frames[:1]
        grid[:, 2 : 2 + h, 2 * (w + 2) + 2 : 2 * (w + 2) + 2 + w] = frames
        np.save(returned / f"{key}_{key}_256x256_3_1200.npy", grid, allow_pickle=False)
    assert [p.key for p in match_videos(bench, returned)] == bench.keys
    rows = score_videos(bench, returned, model="moore", panels=3)
    truth = _ground_truth_row(bench)
    assert _values(rows) == {m: pytest.approx(r["value"], rel=1e-12, abs=1e-12) for m, r in truth.items()}
    shutil.move(returned / f"{bench.keys[0]}_{bench.keys[0]}_256x256_3_1200.npy", tmp_path / "away.npy")
    with pytest.raises(ValueError, match=r"1 benchmark clip\(s\) without a video"):
        match_videos(bench, returned)
