"""`backdrop train --config NAME` and `backdrop generate` run the background-aware models end to end on a small
curated shard set: the disentangled model (its track maps from the shards' tracks) and the AnimateAnywhere-style
model (its epipolar geometry from the shards' tracks); one mp4 per generated clip. backdrop's variant differs from
the first only in inputs that tests/models/data/test_background.py checks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from curation.video.reader import read_video
from jobs.cli import cli
from models.training.checkpoints import latest_checkpoint
from models.training.config import read_run_file

pytestmark = pytest.mark.slow

STAGES = [
    {"name": "image", "steps": 2, "batch_size": 2, "learning_rate": 3e-4},
    {"name": "video", "steps": 2, "batch_size": 1, "frames": 4, "learning_rate": 1e-4},
]


def _invoke(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("name", ["disentangled_tiny", "animate_anywhere_tiny"])  # the variant: unit tests
def test_train_and_generate(name: str, reference_run: Path, tmp_path: Path) -> None:
    data = read_run_file(name)  # the named configuration, as --config NAME reads it
    data["train"].update(
        {"stages": STAGES, "checkpoint_every": 2, "validate_every": 100, "validation_clips": 1, "log_every": 1,
         "sample_steps": 0, "loader_workers": 0}
    )  # fmt: skip
    config = tmp_path / f"{name}.yaml"
    config.write_text(yaml.safe_dump(data))
    output = _invoke("train", "--config", str(config), "--shards", str(reference_run), "--out", str(tmp_path / "run"),
                     "--engine", "local")  # fmt: skip
    assert "step 4/4 (video stage)" in output
    assert latest_checkpoint(tmp_path / "run").step == 4
    out = tmp_path / "videos"
    _invoke("generate", "--run", str(tmp_path / "run"), "--shards", str(reference_run), "--out", str(out),
            "--steps", "2", "--engine", "local", "--limit", "1")  # fmt: skip
    videos = sorted(out.glob("*.mp4"))
    assert len(videos) == 1
    frames = read_video(videos[0])
    assert frames.shape[1:] == (128, 128, 3) and len(frames) > 4  # longer than one clip: clip by clip / windows


def test_named_configurations_load() -> None:
    from models.config import named_model_config

    kinds = {name: named_model_config(name).kind for name in
             ("disentangled_tiny", "disentangled_variant_tiny", "animate_anywhere_tiny", "disentangled_sd15",
              "animate_anywhere_sd15")}  # fmt: skip
    assert kinds["disentangled_tiny"] == "disentangled" and kinds["animate_anywhere_sd15"] == "animate_anywhere"
    assert named_model_config("disentangled_variant_tiny").disentangled.warped_reference
