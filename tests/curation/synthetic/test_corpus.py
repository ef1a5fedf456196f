"""The corpus on disk: file formats, determinism, resumption and the `backdrop synth` command."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner

from curation.synthetic.clip import SynthConfig, render_clip
from curation.synthetic.corpus import clip_name, read_ground_truth, unpack_mask, write_corpus
from curation.video.reader import read_video
from jobs.cli import cli

SMALL = SynthConfig(width=132, height=96, frames=8, fps=12.0, grid_step=8)  # width not a multiple of 8 on purpose


def test_written_clip_matches_schema_and_in_memory_render(tmp_path: Path) -> None:
    [written] = write_corpus(1, tmp_path, seed=3, config=SMALL)
    name = clip_name(3, 0)
    assert written.name == name and written.video == tmp_path / f"{name}.mp4"
    gt = read_ground_truth(tmp_path / f"{name}.gt.npz")
    meta = json.loads((tmp_path / f"{name}.json").read_text())
    reference = render_clip(3, 0, SMALL)
    persons = meta["num_persons"]
    assert gt["keypoints"].dtype == np.float32 and gt["keypoints"].shape == (8, persons, 133, 3)
    assert gt["fgmask"].dtype == np.uint8 and gt["fgmask"].shape == (8, 96, 17)  # ceil(132 / 8)
    assert gt["homography"].dtype == np.float32 and gt["homography"].shape == (8, 3, 3)
    assert gt["gt_tracks"].dtype == np.float32 and gt["gt_visible"].dtype == bool
    assert gt["gt_tracks"].shape == (8, meta["num_tracks"], 2) == reference.tracks.shape
    np.testing.assert_array_equal(unpack_mask(gt["fgmask"], 132), reference.person_masks)
    np.testing.assert_array_equal(gt["keypoints"], reference.keypoints)
    np.testing.assert_array_equal(gt["gt_visible"], reference.visible)
    np.testing.assert_array_equal(gt["homography"], reference.homographies)
    for key in (
        "seed",
        "fps",
        "width",
        "height",
        "frames",
        "camera_label",
        "camera_magnitude",
        "motion",
        "num_persons",
        "parallax",
        "moving_object",
    ):
        assert key in meta, key
    assert (meta["seed"], meta["fps"], meta["width"], meta["height"], meta["frames"]) == (3, 12.0, 132, 96, 8)

    with av.open(str(written.video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.average_rate == 12 and (stream.width, stream.height) == (132, 96)
        assert len(container.streams.audio) == 0
    decoded = read_video(written.video)
    assert decoded.shape == (8, 96, 132, 3)
    # The encoding is faithful in luma (chroma is subsampled 4:2:0, which costs the colourful texture more).
    luma = np.array([0.299, 0.587, 0.114])
    error = np.mean(((decoded.astype(np.float64) - reference.frames) @ luma) ** 2)
    assert 10 * np.log10(255**2 / error) > 33
    assert not list(tmp_path.glob(".*partial"))


def test_same_seed_same_clips_different_seed_different_clips(tmp_path: Path) -> None:
    first = write_corpus(2, tmp_path / "a", seed=11, config=SMALL)
    again = write_corpus(2, tmp_path / "b", seed=11, config=SMALL)
    other = write_corpus(2, tmp_path / "c", seed=12, config=SMALL)
    for x, y, z in zip(first, again, other, strict=True):
        np.testing.assert_array_equal(read_video(x.video), read_video(y.video))
        assert not np.array_equal(read_video(x.video), read_video(z.video))
        gx, gy = (read_ground_truth(v.video.with_suffix("").with_suffix(".gt.npz")) for v in (x, y))
        for member in gx:
            np.testing.assert_array_equal(gx[member], gy[member])
    assert not np.array_equal(read_video(first[0].video), read_video(first[1].video))


def test_parallel_workers_write_the_same_corpus(tmp_path: Path) -> None:
    serial = write_corpus(3, tmp_path / "serial", seed=5, config=SMALL, workers=1)
    parallel = write_corpus(3, tmp_path / "parallel", seed=5, config=SMALL, workers=2)
    for x, y in zip(serial, parallel, strict=True):
        assert x.video.read_bytes() == y.video.read_bytes()


def test_rerun_keeps_complete_clips_and_redoes_incomplete_ones(tmp_path: Path) -> None:
    write_corpus(2, tmp_path, seed=1, config=SMALL)
    (tmp_path / f"{clip_name(1, 1)}.gt.npz").unlink()  # as if killed before the ground truth was written
    again = write_corpus(2, tmp_path, seed=1, config=SMALL)
    assert [c.skipped for c in again] == [True, False]
    assert (tmp_path / f"{clip_name(1, 1)}.gt.npz").exists()
    changed = write_corpus(1, tmp_path, seed=1, config=SynthConfig(width=128, height=96, frames=8, fps=12.0))
    assert not changed[0].skipped  # different settings are never mistaken for the clip on disk


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"width": 130}, "multiple of 4"),
        ({"frames": 1}, "at least 2 frames"),
        ({"fps": 0.0}, "fps"),
        ({"grid_step": 2}, "grid_step"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SynthConfig(**{"width": 128, "height": 96, **kwargs})


def test_ground_truth_reader_names_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gt.npz"
    np.savez(bad, keypoints=np.zeros((2, 1, 133, 3), np.float32))
    with pytest.raises(ValueError, match=r"bad\.gt\.npz.*missing"):
        read_ground_truth(bad)


def test_synth_command(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["synth", "--n", "2", "--out", str(tmp_path), "--size", "128x96", "--frames", "6", "--workers", "1"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "2 clips rendered, 0 already complete" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{clip_name(0, i)}{ext}" for i in range(2) for ext in (".mp4", ".gt.npz", ".json")
    )
    result = runner.invoke(cli, args)
    assert "0 clips rendered, 2 already complete" in result.output
    result = runner.invoke(cli, ["synth", "--out", str(tmp_path), "--size", "128by96"])
    assert result.exit_code == 2 and "WIDTHxHEIGHT" in result.output
    result = runner.invoke(cli, ["synth", "--out", str(tmp_path), "--size", "126x96"])
    assert result.exit_code == 2 and "multiple of 4" in result.output
    follow = tmp_path / "follow"
    result = runner.invoke(cli, [*args[:4], str(follow), *args[5:], "--camera", "follow"])
    assert result.exit_code == 0, result.output
    meta = json.loads((follow / f"{clip_name(0, 1)}.json").read_text())
    assert meta["follow"] == "follow_tilt" and meta["config"]["camera"] == "follow" and meta["num_persons"] == 1


def test_help_explains_every_subcommand() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("synth", "demo"):
        assert name in result.output
        sub = CliRunner().invoke(cli, [name, "--help"])
        assert sub.exit_code == 0 and "--out" in sub.output
