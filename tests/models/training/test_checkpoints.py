"""Checkpoints: a round trip of model, AdamW and EMA state; atomic folders; retention; refusal of a foreign run."""

from __future__ import annotations

import pytest
import torch

from models.training.checkpoints import (
    find_checkpoint,
    latest_checkpoint,
    list_checkpoints,
    load_model_weights,
    load_optimizer_tensors,
    save_checkpoint,
)
from models.training.config import train_config_from_dict
from models.training.run_dir import prepare_run


def _trained(seed: int) -> tuple[torch.nn.Module, torch.optim.Optimizer]:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(3):
        loss = model(torch.randn(5, 4)).square().mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model, optimizer


def test_model_and_optimizer_round_trip_continue_identically(tmp_path):
    model, optimizer = _trained(0)
    ema = {name: p.detach() * 0.5 for name, p in model.named_parameters()}
    checkpoint = save_checkpoint(tmp_path, 3, model=model, optimizer=optimizer, ema=ema, state={"stage": "image"})
    assert checkpoint.state() == {"step": 3, "stage": "image"}

    restored, restored_optimizer = _trained(1)  # different weights and moments, overwritten below
    load_model_weights(restored, checkpoint)
    load_optimizer_tensors(restored_optimizer, checkpoint.path / "optimizer.safetensors")
    batch = torch.randn(5, 4)
    for m, o in ((model, optimizer), (restored, restored_optimizer)):
        m(batch).square().mean().backward()
        o.step()
    for a, b in zip(model.parameters(), restored.parameters(), strict=True):
        assert torch.equal(a, b)

    load_model_weights(restored, checkpoint, ema=True)
    for name, p in restored.named_parameters():
        assert torch.equal(p, ema[name])


def test_only_complete_checkpoints_count_and_old_ones_go(tmp_path):
    model, optimizer = _trained(0)
    for step in (10, 20, 30):
        save_checkpoint(tmp_path, step, model=model, optimizer=optimizer, state={}, keep=2)
    (tmp_path / "checkpoints" / "step-00000040.partial").mkdir()  # a save killed half-way
    assert [c.step for c in list_checkpoints(tmp_path)] == [20, 30]
    assert latest_checkpoint(tmp_path).step == 30
    with pytest.raises(FileNotFoundError, match="no checkpoint of step 10"):
        find_checkpoint(tmp_path, 10)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        find_checkpoint(tmp_path / "elsewhere")


def test_ema_weights_missing_is_a_clear_error(tmp_path):
    model, optimizer = _trained(0)
    checkpoint = save_checkpoint(tmp_path, 1, model=model, optimizer=optimizer, state={})
    with pytest.raises(FileNotFoundError, match="no EMA weights"):
        load_model_weights(model, checkpoint, ema=True)


def test_a_run_folder_resumes_only_with_its_own_settings(tmp_path):
    shards = tmp_path / "shards"
    shards.mkdir()
    config = {"model": {"name": "tiny"}, "train": {"stages": [{"name": "image", "steps": 4}]}}
    prepare_run(tmp_path / "run", config, shards)
    prepare_run(tmp_path / "run", config, shards)  # the same: resumes
    changed = {"model": {"name": "tiny"}, "train": {"stages": [{"name": "image", "steps": 8}]}}
    with pytest.raises(ValueError, match=r"config\.train\.stages: .*steps.*4.*8"):
        prepare_run(tmp_path / "run", changed, shards)
    (shards / "manifest.parquet").write_bytes(b"other data")
    with pytest.raises(ValueError, match="manifest_sha256"):
        prepare_run(tmp_path / "run", config, shards)


def test_a_relative_run_folder_is_made_absolute(tmp_path, monkeypatch):
    # Ray Train workers run in folders of their own: a relative RUN would send their checkpoints there
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shards").mkdir()
    config = {"model": {"name": "tiny"}, "train": {"stages": [{"name": "image", "steps": 4}]}}
    run = prepare_run("out/run", config, "shards")
    assert run.path == tmp_path / "out" / "run" and run.path.is_absolute()
    assert (tmp_path / "out" / "run" / "run.yaml").is_file()


def test_train_config_refuses_unknown_keys_and_bad_stages():
    with pytest.raises(ValueError, match=r"train: unknown keys \['lr'\]"):
        train_config_from_dict({"stages": [{"name": "image", "steps": 1}], "lr": 1})
    with pytest.raises(ValueError, match=r"train.stages\[0\]: unknown keys \['step'\]"):
        train_config_from_dict({"stages": [{"name": "image", "step": 1}]})
    with pytest.raises(ValueError, match="image stage comes before"):
        train_config_from_dict({"stages": [{"name": "video", "steps": 1}, {"name": "image", "steps": 1}]})
    with pytest.raises(ValueError, match="unknown stage 'audio'"):
        train_config_from_dict({"stages": [{"name": "audio", "steps": 1}]})
    config = train_config_from_dict({"stages": [{"name": "image", "steps": 3}, {"name": "video", "steps": 2}]})
    assert config.total_steps == 5
    assert [(s.name, i) for s, i in map(config.stage_at, range(5))] == [
        ("image", 0),
        ("image", 1),
        ("image", 2),
        ("video", 0),
        ("video", 1),
    ]
