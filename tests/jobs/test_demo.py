"""`backdrop demo` renders the synthetic corpus, curates it and trains the tiny model on it (one clip, the
sequential engine and the in-process trainer here: the Ray paths of the same jobs are covered by the curate and
train tests)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from jobs.cli import cli


@pytest.mark.slow
def test_demo_renders_and_curates(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(
        cli,
        ["demo", "--out", str(out), "--n", "1", "--engine", "sequential", "--image-steps", "2", "--video-steps", "1"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "1 clips rendered" in text and "clips: 2 kept, 0 rejected, 0 failed" in text
    manifest = pd.read_parquet(out / "curated" / "manifest.parquet")
    assert list(manifest["status"]) == ["ok", "ok"] and (out / "curation.yaml").is_file()
    assert list((out / "curated" / "shards").glob("*.tar"))
    assert "done at step 3 of 3" in text and (out / "run" / "checkpoints" / "step-00000003").is_dir()


def test_demo_budget_fits_tiny_schedule() -> None:
    """The demo's few steps keep tiny.yaml's schedule, its warm-up scaled down so the stage stays valid."""
    from jobs.demo_command import demo_run_config
    from models.training.config import read_run_file, train_config_from_dict

    tiny = {stage["name"]: stage for stage in read_run_file("tiny")["train"]["stages"]}
    for image_steps, video_steps in ((2, 1), (40, 10), (tiny["image"]["steps"], 0)):
        train = train_config_from_dict(demo_run_config(image_steps, video_steps)["train"])  # raises if invalid
        budget = {"image": image_steps, "video": video_steps}
        assert [stage.steps for stage in train.stages] == [n for n in budget.values() if n]
        for stage in train.stages:
            assert stage.lr_schedule == tiny[stage.name].get("lr_schedule", "constant")
            assert 0 <= stage.warmup_steps < stage.steps
            if stage.steps == tiny[stage.name]["steps"]:
                assert stage.warmup_steps == tiny[stage.name].get("warmup_steps", 0)
