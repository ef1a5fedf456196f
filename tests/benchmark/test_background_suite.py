"""The background-motion suite and its reference rows on a small synthetic corpus (the issue's bars), its state
algebra, its input checks, and the epipolar error on a three-dimensional scene."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.background_analysis import VideoBackground, analyse_background
from benchmark.background_metrics import BackgroundSuite, background_suite
from benchmark.background_truth import ground_truth_path, load_background_truth
from benchmark.epipolar import epipolar_errors, sampson_distance
from benchmark.protocol import BACKGROUND_METRICS, Protocol, get_protocol
from benchmark.reference_rows import (
    REFERENCE_ROWS,
    injected_translation_error,
    load_reference_clip,
    score_reference_rows,
    write_reference_rows,
)
from benchmark.score import ScoreOptions, score
from curation.synthetic.clip import SynthConfig
from curation.synthetic.corpus import write_corpus
from curation.video.reader import read_video
from jobs.cli import cli

CONFIG = SynthConfig(width=256, height=256, frames=24, fps=24.0, grid_step=16)
# static, pan_left, tilt_down, zoom_in, roll, shake: the static clip and every kind of camera motion
CHOSEN = (0, 1, 4, 5, 7, 8)
SHIFT_PX = 24.0


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    corpus = tmp_path_factory.mktemp("bg_corpus")
    written = write_corpus(max(CHOSEN) + 1, corpus, seed=5, config=CONFIG)
    ref = tmp_path_factory.mktemp("bg_ref")
    for clip in (written[i] for i in CHOSEN):
        for suffix in (".mp4", ".gt.npz", ".json"):
            shutil.copyfile(corpus / f"{clip.name}{suffix}", ref / f"{clip.name}{suffix}")
    return ref


@pytest.fixture(scope="module")
def rows(reference, tmp_path_factory) -> dict[str, dict[str, dict]]:
    """row -> metric -> result row, for the three reference rows scored against the corpus."""
    folders = write_reference_rows(reference, tmp_path_factory.mktemp("bg_rows"), shift_px=SHIFT_PX)
    results = score_reference_rows(folders, reference, get_protocol("bd16"))
    return {row: {r["metric"]: r for r in rs} for row, rs in results.items()}


def _moving(reference: Path) -> list[str]:
    keys = [p.stem for p in sorted(reference.glob("*.mp4"))]
    return [k for k in keys if json.loads((reference / f"{k}.json").read_text())["camera_label"] != "static"]


def test_ground_truth_row_is_tracker_noise(rows, reference):
    gt = rows["ground-truth"]
    print({m: round(r["value"], 4) for m, r in gt.items()})  # the figures, with -s
    assert gt["bg-track"]["value"] < 1.0  # pixels; measured ~0.3 (tracker noise on the encoded clip)
    assert gt["bg-camera"]["value"] < 0.5
    assert gt["bg-camera-translation"]["value"] < 0.3
    assert gt["bg-camera-rotation"]["value"] < 0.1 and gt["bg-camera-scale"]["value"] < 0.2
    assert gt["bg-camera-label"]["value"] == 1.0
    assert gt["bg-epipolar"]["value"] < 1.0 and gt["bg-epipolar"]["epipolar_route"] == "homography transfer"
    assert abs(gt["bg-dynamics"]["value"] - 1.0) < 0.05
    static = set(gt["bg-dynamics"]["static_reference_videos"])
    assert static == {k for k in gt["bg-track"]["per_video"]} - set(_moving(reference))
    for r in gt.values():
        assert r["num_videos"] == len(CHOSEN) and r["protocol"] == "bd16"


def test_frozen_background_row_is_ten_times_worse_on_moving_clips(rows, reference):
    gt, frozen = rows["ground-truth"], rows["frozen-background"]
    moving = _moving(reference)
    for metric in ("bg-track", "bg-camera"):
        # The bar: the row's error over the moving-camera clips (mean over them) is at least 10x the truth's.
        ratio = np.mean([frozen[metric]["per_video"][k] for k in moving]) / np.mean(
            [gt[metric]["per_video"][k] for k in moving]
        )
        print(metric, "frozen / ground truth over moving clips:", round(ratio, 1))
        assert ratio >= 10.0, (metric, ratio)
        # Clip by clip too, with a margin for the slowest camera at this small size (a 256x256 roll: ~10x).
        for key in moving:
            assert frozen[metric]["per_video"][key] >= 5.0 * gt[metric]["per_video"][key], (metric, key)
    for key in moving:
        assert frozen["bg-dynamics"]["per_video"][key] < 0.1
    assert frozen["bg-camera-label"]["value"] == pytest.approx(1 / len(CHOSEN))  # only the static clip agrees


def test_shifted_row_camera_error_matches_the_injected_offset(rows):
    injected = injected_translation_error(CONFIG.frames, SHIFT_PX)
    assert injected == pytest.approx(SHIFT_PX * CONFIG.frames / (2 * (CONFIG.frames - 1)))
    shifted = rows["shifted-background"]
    for metric in ("bg-camera-translation", "bg-camera"):
        for key, value in shifted[metric]["per_video"].items():
            assert abs(value - injected) <= 0.1 * injected, (metric, key, value, injected)


def test_reference_rows_keep_the_true_persons(reference, tmp_path):
    key = sorted(p.stem for p in reference.glob("*.mp4"))[1]
    clip = load_reference_clip(reference / f"{key}.mp4").clip
    truth, frozen = clip.render_frame(10), clip.render_frame(10, scene_frame=0)
    np.testing.assert_array_equal(frozen.person_mask, truth.person_mask)
    np.testing.assert_array_equal(frozen.rgb[truth.person_mask], truth.rgb[truth.person_mask])
    first = clip.render_frame(0)
    outside = ~truth.person_mask & ~first.person_mask
    np.testing.assert_array_equal(frozen.rgb[outside], first.rgb[outside])  # the scene of frame 0
    np.testing.assert_array_equal(clip.render_frame(3, extra_camera=np.eye(3)).rgb, clip.render_frame(3).rgb)
    (tmp_path / "x.json").write_text(json.dumps({"generator": "elsewhere/1"}))
    (tmp_path / "x.mp4").write_bytes(b"")
    with pytest.raises(ValueError, match=r"x\.json"):
        load_reference_clip(tmp_path / "x.mp4")


def _analysis(value: float, dynamics: float | None, frames: int = 23, fallback: int = 23) -> VideoBackground:
    return VideoBackground(
        value,
        value,
        value,
        value / 10,
        value / 5,
        float(value < 1),
        "static",
        "pan_left",
        value,
        frames,
        fallback,
        value,
        2.0,
        dynamics,
        100,
    )


def test_merging_two_halves_equals_the_whole():
    protocol = get_protocol("bd16")
    analyses = {f"v{i}": _analysis(0.3 + 1.7 * i, None if i == 2 else 0.5 + 0.1 * i) for i in range(6)}
    whole, first, second = (BackgroundSuite(protocol) for _ in range(3))
    for i, (key, a) in enumerate(analyses.items()):
        for m in whole.metrics:
            m.update(a, key=key)
        for m in (first if i < 3 else second).metrics:
            m.update(a, key=key)
    first.merge(second)
    assert first.compute() == pytest.approx(whole.compute(), rel=1e-15)
    for a, b in zip(first.metrics, whole.metrics, strict=True):
        assert a.n == b.n and a.per_video == b.per_video and a.extra() == b.extra()
    assert set(whole.compute()) == set(BACKGROUND_METRICS)
    with pytest.raises(ValueError, match="v3"):
        first.merge(second)  # the same videos twice
    other = BackgroundSuite(Protocol("other", pixel_resolution=128))
    with pytest.raises(ValueError, match="pixel_resolution"):
        whole.metrics[0].merge(other.metrics[0])


def test_bad_input_names_the_input(reference, tmp_path):
    video = sorted(reference.glob("*.mp4"))[1]
    frames = read_video(video)
    truth = load_background_truth(ground_truth_path(video), width=frames.shape[2])
    with pytest.raises(ValueError, match=r"gen\.mp4 has 23 frames.*24"):
        analyse_background(frames[:-1], truth, name="gen.mp4")
    with pytest.raises(ValueError, match=r"gen\.mp4 is 128x256"):
        analyse_background(np.ascontiguousarray(frames[:, :, :128]), truth, name="gen.mp4")
    with pytest.raises(ValueError, match="width"):
        load_background_truth(ground_truth_path(video), width=100)
    # Through the harness: the generated file is named; a reference without ground truth is named too.
    pred, ref = tmp_path / "pred", tmp_path / "ref"
    pred.mkdir(), ref.mkdir()
    from curation.video.encode import write_mp4

    write_mp4(pred / video.name, frames[:-2], 24.0)
    shutil.copyfile(video, ref / video.name)
    shutil.copyfile(ground_truth_path(video), ground_truth_path(ref / video.name))
    options = ScoreOptions(protocol=get_protocol("bd16"), metrics=("bg-track",))
    with pytest.raises(ValueError, match=f"{pred / video.name} has 22 frames"):
        score(pred, ref, options)
    ground_truth_path(ref / video.name).unlink()
    with pytest.raises(FileNotFoundError, match=r"\.gt\.npz"):
        score(pred, ref, options)


def test_protocol_resolution_scales_the_ground_truth(reference):
    video = sorted(reference.glob("*.mp4"))[1]  # pan_left
    frames = read_video(video)
    truth = load_background_truth(ground_truth_path(video), width=frames.shape[2])
    suite = BackgroundSuite(Protocol("bg128", pixel_resolution=128), metrics=("bg-track", "bg-camera-translation"))
    analysis = suite.update(frames, truth, key="k")
    assert analysis.track_epe < 1.0 and analysis.camera_translation < 0.3  # measured ~0.57 and ~0.14 px at 128
    native = analyse_background(frames, truth)
    assert 0.45 < analysis.motion_reference / native.motion_reference < 0.55
    # The stateless function gives what one suite update gives.
    values = background_suite([frames], [truth], keys=[video.stem])
    assert values["bg-track"] == native.track_epe and values["bg-camera"] == native.camera_corner
    assert values["bg-dynamics"] == native.dynamics


def _two_views(rng: np.random.Generator, planar: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points seen by a camera at the origin and by one moved sideways: tracks [2, N, 2], visible, H (unused)."""
    n, focal, centre = 200, 300.0, 128.0
    xyz = np.c_[rng.uniform(-2, 2, (n, 2)), np.full(n, 6.0) if planar else rng.uniform(4, 12, n)]

    def project(points: np.ndarray) -> np.ndarray:
        return focal * points[:, :2] / points[:, 2:3] + centre

    moved = xyz - np.array([0.6, 0.1, 0.3])
    tracks = np.stack([project(xyz), project(moved)])
    return tracks, np.ones((2, n), bool), np.tile(np.eye(3), (2, 1, 1))


def test_sampson_distance_under_a_three_dimensional_scene():
    rng = np.random.default_rng(0)
    tracks, visible, identity = _two_views(rng, planar=False)
    valid = visible.copy()
    valid[0] = False
    exact = epipolar_errors(tracks, tracks, visible, identity, valid)
    assert exact.fallback_frames == 0 and exact.frames == 1
    assert np.median(exact.errors) < 0.05
    # Off the epipolar line by 3 px in frame 1 the error is of that order; the GT's F is estimated from its tracks.
    from curation.motion.camera_estimation import fundamental_matrix

    f, _ = fundamental_matrix(tracks, visible, 0, 1)
    line = np.c_[tracks[0], np.ones(len(tracks[0]))] @ f.T
    normal = line[:, :2] / np.linalg.norm(line[:, :2], axis=1, keepdims=True)
    off = tracks.copy()
    off[1] += 3.0 * normal
    errors = sampson_distance(f, off[0], off[1])
    assert 1.0 < np.median(errors) <= 3.0 + 1e-6
    along = tracks.copy()
    along[1] += 5.0 * normal[:, ::-1] * [1, -1]  # along the line: the epipolar error cannot see it
    assert np.median(sampson_distance(f, along[0], along[1])) < 0.05


def test_planar_scene_falls_back_to_homography_transfer():
    tracks, visible, _ = _two_views(np.random.default_rng(1), planar=True)
    import cv2

    h, _ = cv2.findHomography(tracks[0], tracks[1])
    shifted = tracks.copy()
    shifted[1] += [2.0, 0.0]
    valid = visible.copy()
    valid[0] = False
    result = epipolar_errors(shifted, tracks, visible, np.stack([np.eye(3), h]), valid)
    assert result.fallback_frames == result.frames == 1
    np.testing.assert_allclose(result.errors, 2.0, atol=1e-4)  # H fitted in float: ~1e-6 px


def test_reference_rows_and_score_commands(reference, tmp_path):
    one = tmp_path / "one"
    one.mkdir()
    key = sorted(p.stem for p in reference.glob("*.mp4"))[1]
    for suffix in (".mp4", ".gt.npz", ".json"):
        shutil.copyfile(reference / f"{key}{suffix}", one / f"{key}{suffix}")
    out = tmp_path / "rows"
    result = CliRunner().invoke(cli, ["reference-rows", "--ref", str(one), "--out", str(out), "--no-score"])
    assert result.exit_code == 0, result.output
    assert all((out / row / f"{key}.mp4").is_file() for row in REFERENCE_ROWS)
    assert (out / "ground-truth" / f"{key}.mp4").read_bytes() == (one / f"{key}.mp4").read_bytes()
    results = tmp_path / "res" / "frozen"
    args = [
        "score",
        "--pred",
        str(out / "frozen-background"),
        "--ref",
        str(one),
        "--protocol",
        "bd16",
        "--out",
        str(results),
        "--metrics",
        "background",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    saved = {r["metric"]: r for r in json.loads(results.with_suffix(".json").read_text())}
    assert set(saved) == set(BACKGROUND_METRICS)
    assert saved["bg-track"]["per_video"][key] > 5.0 and saved["bg-track"]["higher_is_better"] is False
    assert saved["bg-camera-label"]["labels"][key][0] == "static"
