"""The `train:` section of a run configuration (the `model:` section is `models.config`).

A run configuration is one YAML file with both sections; `tiny` and `sd15` name the files in `models/configs/`.
Unknown keys are refused with the key and the file named, as the curation config does.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

STAGES = ("image", "video")
# The schedules of diffusers.optimization.get_scheduler that need nothing but warm-up and total steps.
LR_SCHEDULES = ["constant", "constant_with_warmup", "linear", "cosine"]
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


@dataclass(frozen=True)
class StageConfig:
    """One training stage: `image` (ReferenceNet, denoising UNet, PoseGuider on single frames) or `video` (the
    temporal layers alone on clips of `frames` frames)."""

    name: str
    steps: int  # optimiser steps
    batch_size: int = 2  # clips per worker per micro-batch
    accumulation: int = 1  # micro-batches per optimiser step
    learning_rate: float = 1e-5
    lr_schedule: str = "constant"  # a diffusers.optimization schedule over the stage's steps: constant, cosine, ...
    warmup_steps: int = 0
    weight_decay: float = 1e-2
    max_grad_norm: float = 1.0
    frames: int | None = None  # video stage: frames per clip (None: the model's `frames`); image stage: always 1
    frame_stride: int = 1  # video stage: every k-th frame of the clip

    def __post_init__(self) -> None:
        if self.name not in STAGES:
            raise ValueError(f"train.stages: unknown stage {self.name!r}; known: {list(STAGES)}")
        for name in ("steps", "batch_size", "accumulation", "frame_stride"):
            if getattr(self, name) < 1:
                raise ValueError(f"train.stages[{self.name}].{name} must be at least 1, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ValueError(f"train.stages[{self.name}].learning_rate must be positive, got {self.learning_rate}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(
                f"train.stages[{self.name}].lr_schedule: unknown {self.lr_schedule!r}; known: {LR_SCHEDULES}"
            )
        if not 0 <= self.warmup_steps < self.steps:
            raise ValueError(
                f"train.stages[{self.name}].warmup_steps must lie in [0, steps={self.steps}), got {self.warmup_steps}"
            )
        if self.frames is not None and self.frames < 1:
            raise ValueError(f"train.stages[{self.name}].frames must be at least 1, got {self.frames}")


@dataclass(frozen=True)
class EmaConfig:
    enabled: bool = False
    decay: float = 0.9999

    def __post_init__(self) -> None:
        if not 0.0 < self.decay < 1.0:
            raise ValueError(f"train.ema.decay must lie in (0, 1), got {self.decay}")


@dataclass(frozen=True)
class TrainConfig:
    stages: tuple[StageConfig, ...]
    seed: int = 0
    workers: int = 1  # Ray Train workers (data-parallel)
    use_gpu: bool | None = None  # None: GPU workers where the cluster has GPUs
    threads: int = 1  # torch threads per CPU worker (one was as fast as two on a 2-core machine: see the report)
    loader_workers: int = 1  # DataLoader processes per training worker (decode and render beside the step)
    shuffle: int = 64  # sample shuffle buffer per loader stream
    checkpoint_every: int = 50  # optimiser steps; also the data streams' epoch length (see models.training.loop)
    keep_checkpoints: int = 2
    validate_every: int = 50
    validation_clips: int = 4  # fixed test-split clips (one per batch), fixed noise: a comparable validation loss
    log_every: int = 10
    sample_steps: int = 10  # denoising steps of the sample video logged at each validation (0: none)
    mixed_precision: str = "auto"  # auto: bf16 on GPU, none on CPU; or bf16, no
    gradient_checkpointing: str = "auto"  # auto: on GPU; or on, off
    ema: EmaConfig = field(default_factory=EmaConfig)

    def __post_init__(self) -> None:
        if not self.stages:
            raise ValueError("train.stages: at least one stage")
        names = [stage.name for stage in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"train.stages: each stage once, got {names}")
        if names != [name for name in STAGES if name in names]:
            raise ValueError(f"train.stages: the image stage comes before the video stage, got {names}")
        for name in ("workers", "threads", "checkpoint_every", "keep_checkpoints", "validate_every", "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"train.{name} must be at least 1, got {getattr(self, name)}")
        for name in ("loader_workers", "shuffle", "validation_clips", "sample_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"train.{name} must be at least 0, got {getattr(self, name)}")
        if self.mixed_precision not in ("auto", "bf16", "no"):
            raise ValueError(f"train.mixed_precision: auto, bf16 or no, got {self.mixed_precision!r}")
        if self.gradient_checkpointing not in ("auto", "on", "off"):
            raise ValueError(f"train.gradient_checkpointing: auto, on or off, got {self.gradient_checkpointing!r}")

    @property
    def total_steps(self) -> int:
        return sum(stage.steps for stage in self.stages)

    def stage_at(self, step: int) -> tuple[StageConfig, int]:
        """The stage that optimiser step `step` (0-based, over all stages) belongs to, and the step within it."""
        for stage in self.stages:
            if step < stage.steps:
                return stage, step
            step -= stage.steps
        raise ValueError(f"step {step} is past the last stage")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _fields(cls: type, where: str, values: Any) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise ValueError(f"{where} must be a mapping, got {type(values).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}; known: {sorted(known)}")
    return dict(values)


def train_config_from_dict(data: Any) -> TrainConfig:
    """A TrainConfig from the `train:` section's plain data; unknown keys raise ValueError naming them."""
    values = _fields(TrainConfig, "train", data or {})
    if "stages" not in values:
        raise ValueError("train: `stages` is required (a list of {name, steps, ...})")
    stages = values["stages"]
    if not isinstance(stages, list):
        raise ValueError(f"train.stages must be a list, got {type(stages).__name__}")
    values["stages"] = tuple(StageConfig(**_fields(StageConfig, f"train.stages[{i}]", s)) for i, s in enumerate(stages))
    if "ema" in values:
        values["ema"] = EmaConfig(**_fields(EmaConfig, "train.ema", values["ema"]))
    return TrainConfig(**values)


def run_config_path(name_or_path: str | os.PathLike) -> Path:
    """A run configuration file: a path, or the name of one in models/configs (`tiny`, `sd15`)."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    named = CONFIG_DIR / f"{name_or_path}.yaml"
    if named.is_file():
        return named
    known = sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))
    raise FileNotFoundError(f"{name_or_path}: no such run configuration file, nor a named one ({known})")


def read_run_file(name_or_path: str | os.PathLike) -> dict[str, Any]:
    """The plain data of a run configuration (`model:` and `train:`), read with `yaml.safe_load`."""
    path = run_config_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValueError(f"{path}: cannot read the run configuration: {error}") from error
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a run configuration is a mapping with `model:` and `train:` sections")
    unknown = sorted(set(data) - {"model", "train"})
    if unknown:
        raise ValueError(f"{path}: unknown sections {unknown}; known: ['model', 'train']")
    return data


def stage_with_steps(stage: dict[str, Any], steps: int) -> dict[str, Any]:
    """A run file's stage (plain data) cut or stretched to `steps`, its learning-rate warm-up scaled with it (a
    warm-up of the full stage's length would not fit a budget of a few dozen steps)."""
    out = dict(stage, steps=steps)
    if "warmup_steps" in stage:
        out["warmup_steps"] = min(stage["warmup_steps"] * steps // stage["steps"], steps - 1)
    return out
