"""`backdrop train` and `backdrop generate` on the tiny configuration and a small synthetic shard set (CPU, fixed
seeds): the loss falls; a run killed after a checkpoint and resumed ends with the parameters of a run never stopped;
Ray Train with two workers; one mp4 per test clip, named by its key, the same for the same seed on either engine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from click.testing import CliRunner
from safetensors.torch import load_file
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from curation.video.reader import read_video
from jobs.cli import cli
from models.training.checkpoints import latest_checkpoint, list_checkpoints
from models.training.config import read_run_file

pytestmark = pytest.mark.slow


def _config(tmp: Path, name: str, stages: list[dict], **train: object) -> Path:
    data = read_run_file("tiny")
    settings = {"checkpoint_every": 2, "validate_every": 100, "log_every": 1, "sample_steps": 0, "loader_workers": 0}
    data["train"].update({**settings, **train, "stages": stages})
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _train(config: Path, shards: Path, out: Path, *extra: str) -> str:
    args = ["train", "--config", str(config), "--shards", str(shards), "--out", str(out), *extra]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _scalars(run: Path, tag: str) -> list[tuple[int, float]]:
    events = EventAccumulator(str(run / "logs"))
    events.Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]


EMA = {"enabled": True, "decay": 0.9}
# Decaying learning rates, so that a resumed run that restarted its schedule would end elsewhere.
RESUME_STAGES = [
    {"name": "image", "steps": 4, "batch_size": 2, "learning_rate": 3e-4, "lr_schedule": "cosine", "warmup_steps": 1},
    {"name": "video", "steps": 3, "batch_size": 1, "frames": 8, "learning_rate": 1e-4, "lr_schedule": "cosine"},
]


@pytest.fixture(scope="module")
def trained_run(reference_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted local run of both stages (checkpoints at steps 2, 4, 6, 7), with a sample video at the end."""
    tmp = tmp_path_factory.mktemp("trained")
    config = _config(tmp, "resume", RESUME_STAGES, validate_every=7, sample_steps=2, ema=EMA)
    _train(config, reference_run, tmp / "run", "--engine", "local")
    return tmp / "run"


def test_the_loss_falls(reference_run: Path, tmp_path: Path) -> None:
    stages = [{"name": "image", "steps": 40, "batch_size": 4, "learning_rate": 3e-4}]
    config = _config(tmp_path, "falls", stages, checkpoint_every=40, validate_every=40, validation_clips=2)
    output = _train(config, reference_run, tmp_path / "run", "--engine", "local")
    assert "train: step 40/40 (image stage)" in output
    losses = [value for _, value in _scalars(tmp_path / "run", "loss/train_image")]
    assert len(losses) == 40
    first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
    assert last < 0.8 * first, (first, last)
    validation = dict(_scalars(tmp_path / "run", "loss/validation_image"))
    assert validation[40] < validation[0], validation


def test_a_killed_run_resumes_to_the_same_parameters(trained_run: Path, reference_run: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, "resume", RESUME_STAGES, validate_every=7, sample_steps=2, ema=EMA)
    run = tmp_path / "run"
    command = [sys.executable, "-m", "jobs.cli", "train", "--engine", "local", "--config", str(config)]
    command += ["--shards", str(reference_run), "--out", str(run)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=Path.cwd())
    deadline = time.monotonic() + 240
    while not list_checkpoints(run) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = latest_checkpoint(run).step
    assert killed_at < 7, "the run finished before it could be killed"

    output = _train(config, reference_run, run, "--engine", "local")
    assert f"step {killed_at + 1}/7" in output and f"step {killed_at}/7" not in output  # it went on, not again
    for part in ("model", "ema", "optimizer"):
        resumed = load_file(str(latest_checkpoint(run).path / f"{part}.safetensors"))
        uninterrupted = load_file(str(latest_checkpoint(trained_run).path / f"{part}.safetensors"))
        assert resumed.keys() == uninterrupted.keys()
        changed = [name for name in resumed if not torch.equal(resumed[name], uninterrupted[name])]
        assert not changed, (part, changed[:5])
    # the curves of the resumed run: one value per step, what the killed run logged after its checkpoint replaced
    assert [step for step, _ in _scalars(run, "loss/train_image")] == [1, 2, 3, 4]
    assert [step for step, _ in _scalars(run, "loss/train_video")] == [5, 6, 7]
    assert _scalars(run, "loss/train_video") == _scalars(trained_run, "loss/train_video")
    # the video task's loss before its first step is logged before the image stage's last checkpoint (step 4): once
    assert _scalars(run, "loss/validation_video") == _scalars(trained_run, "loss/validation_video")
    state = latest_checkpoint(run).state()
    assert state["step"] == 7 and state["stage"] == "video" and state["manifest_sha256"]


def test_a_run_folder_refuses_another_configuration(trained_run: Path, reference_run: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, "other", [{"name": "image", "steps": 5}])
    args = ["train", "--config", str(config), "--shards", str(reference_run), "--out", str(trained_run)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code != 0
    assert "holds a run made with other settings" in result.output and "config.train.stages" in result.output


def test_samples_and_logs_of_a_run(trained_run: Path) -> None:
    assert (trained_run / "samples" / "step-00000007.mp4").is_file()
    events = EventAccumulator(str(trained_run / "logs"))
    events.Reload()
    assert "sample" in events.Tags()["images"]
    assert [step for step, _ in _scalars(trained_run, "loss/validation_video")] == [4, 7]


def test_ray_train_with_two_workers(reference_run: Path, tmp_path: Path) -> None:
    stages = [
        {"name": "image", "steps": 2, "batch_size": 1, "learning_rate": 3e-4},
        {"name": "video", "steps": 1, "batch_size": 1, "frames": 4, "learning_rate": 1e-4},
    ]
    config = _config(tmp_path, "ray", stages, workers=2)
    output = _train(config, reference_run, tmp_path / "run", "--num-cpus", "2")
    assert "done at step 3" in output
    checkpoint = latest_checkpoint(tmp_path / "run")
    assert checkpoint.step == 3 and checkpoint.state()["stage"] == "video"
    weights = load_file(str(checkpoint.path / "model.safetensors"))
    assert all(torch.isfinite(value).all() for value in weights.values())


def _generate(run: Path, shards: Path, out: Path, *extra: str) -> None:
    args = ["generate", "--run", str(run), "--shards", str(shards), "--out", str(out), "--steps", "2", *extra]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_generate_one_video_per_test_clip(trained_run: Path, reference_run: Path, tmp_path: Path) -> None:
    _generate(trained_run, reference_run, tmp_path / "ray", "--num-cpus", "2")
    manifest = pd.read_parquet(reference_run / "manifest.parquet")
    test = manifest[(manifest["split"] == "test") & (manifest["status"] == "ok")]
    assert sorted(p.stem for p in (tmp_path / "ray").glob("*.mp4")) == sorted(test["key"])
    key = sorted(test["key"])[0]
    video = read_video(tmp_path / "ray" / f"{key}.mp4")
    assert video.shape == (int(test.set_index("key").loc[key, "frames"]), 128, 128, 3)

    _generate(trained_run, reference_run, tmp_path / "local", "--engine", "local", "--limit", "1")
    assert (read_video(tmp_path / "local" / f"{key}.mp4") == video).all()  # same seed, same video, either engine
    _generate(trained_run, reference_run, tmp_path / "seed", "--engine", "local", "--limit", "1", "--seed", "1")
    assert not (read_video(tmp_path / "seed" / f"{key}.mp4") == video).all()


def test_bench_run_generates_with_a_trained_run_and_scores(trained_run: Path, bench, tmp_path: Path) -> None:
    """`bench run --model RUN`: the benchmark's clips generated by the run (the generation job, here in-process)
    from the benchmark's own shard copy, then scored: one video per clip by key, one row per metric of the protocol,
    the model named after the run."""
    results = tmp_path / "results"
    args = ["bench", "run", str(bench.path), "--model", str(trained_run), "--out", str(results), "--steps", "2"]
    result = CliRunner().invoke(cli, [*args, "--engine", "local"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    videos = results / "videos" / trained_run.name
    assert sorted(p.stem for p in videos.glob("*.mp4")) == bench.keys
    assert read_video(videos / f"{bench.keys[0]}.mp4").shape == (24, 128, 128, 3)  # the tiny model's size
    table = pd.read_parquet(results / f"{trained_run.name}.parquet")
    assert list(table["metric"]) == list(bench.protocol.scored_metrics)
    assert set(table["model"]) == {trained_run.name} and set(table["row_kind"]) == {"model"}
    assert (table["num_videos"] == len(bench.keys)).all()
