"""Checkpoints of a training run: one folder per optimiser step, written whole or not at all.

    RUN/checkpoints/step-00000050/
        model.safetensors       every parameter and buffer of the model
        optimizer.safetensors   AdamW's moments and steps (tensors), with its parameter groups in the metadata
        ema.safetensors         the EMA weights of the stage's trainable parameters (when EMA is on)
        state.json              step, stage, the run configuration, the data's manifest hash, versions

A folder is written under a temporary name and renamed when complete, so a run killed while saving leaves no
half-written checkpoint; `latest_checkpoint` only ever sees complete ones.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

STEP_DIR = re.compile(r"step-(\d{8})")


@dataclass(frozen=True)
class Checkpoint:
    path: Path
    step: int

    def state(self) -> dict[str, Any]:
        return json.loads((self.path / "state.json").read_text())


def checkpoint_dir(run: str | os.PathLike) -> Path:
    return Path(run) / "checkpoints"


def list_checkpoints(run: str | os.PathLike) -> list[Checkpoint]:
    """Complete checkpoints of a run, oldest first."""
    folder = checkpoint_dir(run)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = STEP_DIR.fullmatch(path.name)
        if match and (path / "state.json").is_file():
            found.append(Checkpoint(path, int(match.group(1))))
    return sorted(found, key=lambda c: c.step)


def latest_checkpoint(run: str | os.PathLike) -> Checkpoint | None:
    found = list_checkpoints(run)
    return found[-1] if found else None


def find_checkpoint(run: str | os.PathLike, step: int | None = None) -> Checkpoint:
    """The checkpoint of `step` (None: the latest), or FileNotFoundError naming the run and what it has."""
    found = list_checkpoints(run)
    if not found:
        raise FileNotFoundError(f"{run}: no checkpoint (expected {checkpoint_dir(run)}/step-NNNNNNNN/)")
    if step is None:
        return found[-1]
    for checkpoint in found:
        if checkpoint.step == step:
            return checkpoint
    raise FileNotFoundError(f"{run}: no checkpoint of step {step}; steps: {[c.step for c in found]}")


def _contiguous(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    # safetensors refuses tensors that share storage; a clone per tensor is cheap next to writing them
    return {name: t.detach().to("cpu").contiguous().clone() for name, t in tensors.items()}


def optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """An optimiser's state dict as flat tensors plus JSON metadata (safetensors holds tensors and strings only)."""
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, values in state["state"].items():
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{name}"] = value
            else:
                scalars.setdefault(str(index), {})[name] = value
    metadata = {"param_groups": json.dumps(state["param_groups"]), "scalars": json.dumps(scalars)}
    return _contiguous(tensors), metadata


def load_optimizer_tensors(optimizer: torch.optim.Optimizer, path: Path) -> None:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    state: dict[int, dict[str, Any]] = {}
    for name, tensor in tensors.items():
        index, _, key = name.partition(".")
        state.setdefault(int(index), {})[key] = tensor
    for index, values in json.loads(metadata.get("scalars", "{}")).items():
        state.setdefault(int(index), {}).update(values)
    optimizer.load_state_dict({"state": state, "param_groups": json.loads(metadata["param_groups"])})


def save_checkpoint(
    run: str | os.PathLike,
    step: int,
    *,
    model: torch.nn.Module,
    state: dict[str, Any],
    optimizer: torch.optim.Optimizer | None = None,
    ema: dict[str, torch.Tensor] | None = None,
    keep: int = 2,
) -> Checkpoint:
    """Write step `step`'s checkpoint atomically and keep only the newest `keep` ones."""
    final = checkpoint_dir(run) / f"step-{step:08d}"
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    save_file(_contiguous(model.state_dict()), str(partial / "model.safetensors"), metadata={"step": str(step)})
    if optimizer is not None:
        tensors, metadata = optimizer_tensors(optimizer)
        save_file(tensors, str(partial / "optimizer.safetensors"), metadata=metadata)
    if ema is not None:
        save_file(_contiguous(ema), str(partial / "ema.safetensors"))
    (partial / "state.json").write_text(json.dumps({"step": step, **state}, indent=2, sort_keys=True))
    if final.exists():  # the same step saved again (a resumed run): the new copy replaces it whole
        shutil.rmtree(final)
    os.replace(partial, final)
    for old in list_checkpoints(run)[:-keep]:
        shutil.rmtree(old.path, ignore_errors=True)
    return Checkpoint(final, step)


def load_model_weights(model: torch.nn.Module, checkpoint: Checkpoint, *, ema: bool = False) -> None:
    """The checkpoint's weights into `model` (strict); with `ema`, its EMA weights over those it has."""
    model.load_state_dict(load_file(str(checkpoint.path / "model.safetensors")), strict=True)
    if ema:
        path = checkpoint.path / "ema.safetensors"
        if not path.is_file():
            raise FileNotFoundError(f"{checkpoint.path}: no EMA weights (the run trained without `train.ema`)")
        averaged = load_file(str(path))
        missing = sorted(set(averaged) - set(dict(model.named_parameters())))
        if missing:
            raise ValueError(f"{path}: EMA weights for parameters the model lacks: {missing[:5]}")
        params = dict(model.named_parameters())
        with torch.no_grad():
            for name, value in averaged.items():
                params[name].copy_(value)
