"""A benchmark from curated shards: its truth equals the synthetic ground truth where both exist (within the curation
accuracy bars), its training-free rows keep the background suite's separation, a protocol that cannot separate them
is refused, and a benchmark stores what it needs (clips, truth, shards, rows, calibration)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmark.definition import load_benchmark
from benchmark.evaluation import CalibrationError, calibrate
from benchmark.metrics.base import ResultRow
from benchmark.training_free import TRAINING_FREE_ROWS
from curation.motion.camera_estimation import corner_error
from curation.shards.tar_files import iter_tar
from curation.synthetic.corpus import read_ground_truth


def _rows(bench) -> dict[str, dict[str, dict]]:
    out = {}
    for row in TRAINING_FREE_ROWS:
        out[row] = {r["metric"]: r for r in json.loads((bench.rows_dir / f"{row}.json").read_text())}
    return out


def test_truth_from_shards_equals_the_synthetic_ground_truth(bench, bench_corpus):
    """Tracks and camera within the curation accuracy bars (reports/curation_accuracy.md): median end-point error
    <= 0.5 px and 95th percentile <= 2 px over the kept (track-mask) points the synthetic truth sees too, median
    corner error <= 1 px; the pose is the corpus' keypoints; the clip is the shard's mp4, byte for byte."""
    errors, corners = [], []
    assert len(bench.keys) == 6
    for key in bench.keys:
        clip = bench.clip(key)
        source = Path(clip["source"])
        gt = read_ground_truth(source.with_name(f"{source.stem}.gt.npz"))
        truth = bench.truth(key)
        assert truth.frames == clip["frames"] == gt["gt_tracks"].shape[0] == 24  # one whole-source clip
        # the same persons (the shard sorts them by area, the corpus by its own order)
        assert truth.pose.shape == gt["keypoints"].shape
        for person in np.moveaxis(truth.pose, 1, 0):
            assert min(np.abs(person - other).max() for other in np.moveaxis(gt["keypoints"], 1, 0)) < 1e-3
        np.testing.assert_array_equal(truth.fgmask.shape, (24, 256, 256))
        corners.append(np.median(corner_error(truth.camera.astype(np.float64), gt["homography"], (256, 256))[1:]))
        # curated tracks start on the synthetic grid (same step): match them by their frame-0 position
        start = gt["gt_tracks"][0]
        distance = np.linalg.norm(truth.tracks[0][:, None] - start[None], axis=-1)
        nearest, gap = distance.argmin(axis=1), distance.min(axis=1)
        matched = gap < 0.5
        assert matched.mean() > 0.9
        kept = truth.track_mask[:, matched] & gt["gt_visible"][:, nearest[matched]]
        epe = np.linalg.norm(truth.tracks[:, matched] - gt["gt_tracks"][:, nearest[matched]], axis=-1)
        errors.append(epe[kept])
    errors = np.concatenate(errors)
    print("median EPE", np.median(errors), "p95", np.percentile(errors, 95), "corner", np.median(corners))
    assert np.median(errors) <= 0.5 and np.percentile(errors, 95) <= 2.0
    assert np.median(corners) <= 1.0
    members = dict(iter_tar(bench.shards / "test-000000.tar"))
    for key in bench.keys:
        assert bench.clip_video(key).read_bytes() == members[f"{key}.mp4"]


def test_training_free_rows_keep_the_separation(bench):
    rows = _rows(bench)
    moving = [k for k in bench.keys if bench.clip(k)["camera_label"] != "static"]
    assert len(moving) == 5
    gt, frozen, shifted = rows["ground-truth"], rows["frozen-background"], rows["shifted-background"]
    for metric in ("bg-track", "bg-camera"):
        ratio = np.mean([frozen[metric]["per_video"][k] for k in moving]) / np.mean(
            [gt[metric]["per_video"][k] for k in moving]
        )
        print(metric, "frozen / ground truth:", round(ratio, 1))
        assert ratio >= 10.0
        assert bench.info["calibration"]["separation"][metric] == pytest.approx(ratio)
    # shifted: the injected translation (32 px at the last frame of 256 px clips, here in 128 px frames)
    expected = 32.0 * 24 / (2 * 23) * 0.5
    for key, value in shifted["bg-camera-translation"]["per_video"].items():
        assert abs(value - expected) <= 0.1 * expected, (key, value, expected)
    # the true camera carries the reference frame: as much background motion as the truth; a repeated frame: none
    for key in moving:
        assert rows["reference-warped"]["bg-dynamics"]["per_video"][key] == pytest.approx(1.0, abs=0.1)
        assert rows["reference-repeated"]["bg-dynamics"]["per_video"][key] < 0.05
    assert gt["psnr"]["value"] == pytest.approx(80.0) and gt["bg-first-frame"]["value"] == 0.0
    for row in rows.values():  # every row: the protocol, intervals, videos and frames, units
        for r in row.values():
            assert r["protocol"] == "bd16-px128-free" and r["num_videos"] == 6 and r["num_frames"] == 144
            assert r["unit"] and r["benchmark"] == bench.name
            if r["per_video"] and r["interval_low"] is not None:
                assert r["interval_low"] <= r["value"] <= r["interval_high"]


def test_a_protocol_that_cannot_separate_is_refused(bench):
    def rows(values: dict[str, float]) -> list[ResultRow]:
        out = []
        for metric in ("bg-track", "bg-camera"):
            per_video = {k: values.get(k, 1.0) for k in bench.keys}
            out.append(
                ResultRow(metric, float(np.mean(list(per_video.values()))), "px", False, "p", "{}", 6, per_video)
            )
        return out

    good = {
        "ground-truth": rows({}),
        "frozen-background": rows({k: 20.0 for k in bench.keys}),
        "shifted-background": [],
    }
    assert calibrate(bench, good, 32.0)["passed"]
    poor = {**good, "frozen-background": rows({k: 3.0 for k in bench.keys})}
    calibration = calibrate(bench, poor, 32.0)
    assert not calibration["passed"] and "3.0x" in calibration["problems"][0]


def test_define_refuses_a_resolution_where_the_suite_is_noise(bench_shards, tmp_path):
    from benchmark.evaluation import define_benchmark
    from benchmark.protocol import get_protocol

    with pytest.raises(CalibrationError, match=r"refused.*frozen / ground truth"):
        define_benchmark(bench_shards, tmp_path / "b32", get_protocol("bd16-px128-free", pixel_resolution=32))
    assert not (tmp_path / "b32" / "benchmark.json").exists()
    assert json.loads((tmp_path / "b32" / "calibration.json").read_text())["passed"] is False


def test_a_benchmark_folder_is_complete_and_checked(bench, tmp_path):
    again = load_benchmark(bench.path)
    assert again.keys == bench.keys and again.protocol == bench.protocol
    assert sorted(p.name for p in bench.shards.glob("*")) == ["test-000000.tar", "test.index.json"]
    for row in TRAINING_FREE_ROWS:
        assert sorted(p.stem for p in (bench.rows_dir / row).glob("*.mp4")) == bench.keys
    with pytest.raises(FileNotFoundError, match="not a benchmark"):
        load_benchmark(tmp_path)
    with pytest.raises(FileExistsError):
        from benchmark.definition import write_benchmark_clips

        write_benchmark_clips(bench.path, bench.path, bench.protocol)


def test_define_stores_frechet_statistics_and_runs_reuse_them(bench_shards, r3d_net, tmp_path):
    """`bench define` under a protocol with a Fréchet metric (FID-VID) stores the truth's reference statistics under
    the protocol's name; scoring later reads them (the file is not rewritten): the truth scores 0 against them, the
    frozen background does not."""
    import dataclasses

    import torch

    from benchmark.evaluation import define_benchmark, score_videos
    from benchmark.protocol import NETWORKS, get_protocol, sha256_file
    from benchmark.stats import stats_path

    weights = tmp_path / "weights"
    weights.mkdir()
    hara = {f"module.{k}": v for k, v in r3d_net.module.state_dict().items()}  # Hara's checkpoint layout
    torch.save(
        {"epoch": 1, "arch": "resnet-50", "state_dict": hara}, weights / NETWORKS["fidvid-r3d50"].weights.filename
    )
    # FID-VID alone: no background metric, so calibration has nothing to refuse and the test pays only for R3D-50
    protocol = dataclasses.replace(get_protocol("bd16-px128"), name="bd16-px128-fidvid", metrics=("fid-vid",))
    bench = define_benchmark(bench_shards, tmp_path / "fvbench", protocol, weights_dir=weights)
    stats = stats_path(bench.stats_dir, bench.name, "bd16-px128-fidvid", "fid-vid")
    assert [p.name for p in bench.stats_dir.iterdir()] == [stats.name]  # one statistic: the protocol's one metric
    rows = _rows(bench)
    assert rows["ground-truth"]["fid-vid"]["value"] == pytest.approx(0.0, abs=1e-3)
    assert rows["frozen-background"]["fid-vid"]["value"] > 1.0  # the features see the removed person
    assert rows["frozen-background"]["fid-vid"]["reference_stats"] == str(stats)
    before = sha256_file(stats)
    again = score_videos(bench, bench.rows_dir / "ground-truth", model="again", weights_dir=weights)
    assert [r.metric for r in again] == ["fid-vid"]
    assert again[0].value == pytest.approx(0.0, abs=1e-3)
    assert sha256_file(stats) == before
