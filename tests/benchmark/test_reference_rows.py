"""The reference rows (ground truth, frozen background, shifted background) scored with the background suite on a
small synthetic corpus: the issue's bars, the true persons kept, and the `reference-rows` and `score` commands."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from benchmark.metrics import BACKGROUND_METRICS
from benchmark.protocol import get_protocol
from benchmark.reference_rows import (
    REFERENCE_ROWS,
    injected_translation_error,
    load_reference_clip,
    score_reference_rows,
    write_reference_rows,
)
from jobs.cli import cli
from tests.helpers.background import CHOSEN, CONFIG, moving_keys

SHIFT_PX = 24.0


@pytest.fixture(scope="module")
def rows(reference, tmp_path_factory) -> dict[str, dict[str, dict]]:
    """row -> metric -> result row, for the three reference rows scored against the corpus."""
    folders = write_reference_rows(reference, tmp_path_factory.mktemp("bg_rows"), shift_px=SHIFT_PX)
    results = score_reference_rows(folders, reference, get_protocol("bd16"))
    for row, rs in results.items():
        assert {(r.model, r.extras["reference_row"]) for r in rs} == {(row, row)}  # each row names itself
    return {row: {r.metric: r.to_dict() for r in rs} for row, rs in results.items()}


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
    assert static == {k for k in gt["bg-track"]["per_video"]} - set(moving_keys(reference))
    for r in gt.values():
        assert r["num_videos"] == len(CHOSEN) and r["protocol"] == "bd16"


def test_frozen_background_row_is_ten_times_worse_on_moving_clips(rows, reference):
    gt, frozen = rows["ground-truth"], rows["frozen-background"]
    moving = moving_keys(reference)
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
