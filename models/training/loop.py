"""The training loop of one data-parallel worker, with no Ray in it: `jobs/training` runs it on Ray Train (which
supplies the rank, the device and `prepare_model`); tests and a debugger run it in-process.

Reproducibility, so that a run killed and resumed ends with the same parameters as one never stopped:
- each stage is cut into segments of `train.checkpoint_every` optimiser steps, and a checkpoint ends every segment
  (and every stage): a resumed run always restarts at a segment's first step;
- a segment's data stream is seeded by (seed, stage, segment, rank, loader worker) and read from its start;
- the noise, timesteps and condition drops of optimiser step s on rank r come from a generator seeded by
  (seed, r, s), never from a global RNG.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from diffusers.optimization import get_scheduler

from models.training.checkpoints import Checkpoint, latest_checkpoint, load_optimizer_tensors, save_checkpoint
from models.training.config import StageConfig, TrainConfig
from models.training.run_log import RunLog

log = logging.getLogger(__name__)


@dataclass
class WorkerContext:
    """Where a worker runs: its rank among `world_size`, its device, and how the model is wrapped for data
    parallelism (Ray Train's `prepare_model`; identity in-process)."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    prepare_model: Callable[[torch.nn.Module], torch.nn.Module] = lambda model: model

    @property
    def is_chief(self) -> bool:
        return self.rank == 0


def peak_memory_mb(device: torch.device) -> dict[str, float]:
    """This process's peak resident memory (Linux reports KiB) and, on a GPU, the peak of torch's allocations."""
    peak = {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        peak["peak_gpu_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return peak


def step_seed(seed: int, rank: int, step: int) -> int:
    """A 63-bit seed per (run seed, rank, optimiser step)."""
    digest = hashlib.sha256(f"{seed}/{rank}/{step}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def segment_epoch(stage_index: int, step_in_stage: int, checkpoint_every: int) -> int:
    """The data stream's epoch for a step: one per (stage, segment)."""
    return stage_index * 1_000_000 + step_in_stage // checkpoint_every


def is_segment_end(stage: StageConfig, step_in_stage: int, checkpoint_every: int) -> bool:
    done = step_in_stage + 1
    return done % checkpoint_every == 0 or done == stage.steps


def autocast(device: torch.device, mixed_precision: str) -> contextlib.AbstractContextManager:
    use_bf16 = mixed_precision == "bf16" or (mixed_precision == "auto" and device.type == "cuda")
    if use_bf16:
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@dataclass
class StageState:
    """What changes with the stage: which parameters train, their optimiser and EMA, the wrapped model."""

    config: StageConfig
    index: int
    parameters: list[tuple[str, torch.nn.Parameter]]
    optimizer: torch.optim.Optimizer
    learning_rate: torch.optim.lr_scheduler.LRScheduler
    wrapped: torch.nn.Module
    ema: Any = None  # diffusers.training_utils.EMAModel

    def ema_tensors(self) -> dict[str, torch.Tensor] | None:
        if self.ema is None:
            return None
        return {name: shadow for (name, _), shadow in zip(self.parameters, self.ema.shadow_params, strict=True)}


def start_stage(
    model: Any, train: TrainConfig, index: int, context: WorkerContext, resume: Checkpoint | None, in_stage: int = 0
) -> StageState:
    """The stage's trainable parameters, optimiser (restored from `resume` when it is this stage's) and learning rate
    schedule, positioned at step `in_stage` of the stage: the schedule is a function of the step alone, so a resumed
    run needs no scheduler state."""
    stage = train.stages[index]
    model.set_stage(stage.name)
    trainable = set(map(id, model.trainable_parameters(stage.name)))
    parameters = [(name, p) for name, p in model.named_parameters() if id(p) in trainable]
    optimizer = torch.optim.AdamW([p for _, p in parameters], lr=stage.learning_rate, weight_decay=stage.weight_decay)
    for group in optimizer.param_groups:  # what torch's schedulers read when they start past step 0
        group["initial_lr"] = stage.learning_rate
    learning_rate = get_scheduler(
        stage.lr_schedule,
        optimizer,
        num_warmup_steps=stage.warmup_steps,
        num_training_steps=stage.steps,
        last_epoch=in_stage - 1,
    )
    ema = None
    if train.ema.enabled:
        from diffusers.training_utils import EMAModel

        ema = EMAModel([p for _, p in parameters], decay=train.ema.decay)
    state = StageState(stage, index, parameters, optimizer, learning_rate, context.prepare_model(model), ema)
    if resume is not None and resume.state().get("stage") == stage.name:
        load_optimizer_tensors(optimizer, resume.path / "optimizer.safetensors")
        if ema is not None:
            from safetensors.torch import load_file

            averaged = load_file(str(resume.path / "ema.safetensors"))
            ema.shadow_params = [averaged[name].to(p.device) for name, p in parameters]
            ema.optimization_step = int(resume.state()["ema_step"])
    return state


def optimiser_step(
    state: StageState,
    batches: Iterator[dict[str, Any]],
    generator: torch.Generator,
    context: WorkerContext,
    mixed_precision: str,
) -> float:
    """One optimiser step over `accumulation` micro-batches; the mean loss."""
    stage = state.config
    total = 0.0
    for _ in range(stage.accumulation):
        batch = to_device(next(batches), context.device)
        with autocast(context.device, mixed_precision):
            loss = state.wrapped(batch, stage=stage.name, generator=generator)
        (loss / stage.accumulation).backward()
        total += float(loss.detach())
    torch.nn.utils.clip_grad_norm_([p for _, p in state.parameters], stage.max_grad_norm)
    state.optimizer.step()
    state.learning_rate.step()
    state.optimizer.zero_grad(set_to_none=True)
    if state.ema is not None:
        state.ema.step([p for _, p in state.parameters])
    return total / stage.accumulation


def to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def train_worker(
    run: Path,
    model: Any,
    train: TrainConfig,
    data: Any,
    context: WorkerContext,
    *,
    run_state: dict[str, Any],
    sample: Callable[[Any, int], Any] | None = None,
) -> dict[str, Any]:
    """Train `model` through every stage of `train`, resuming from the run's latest checkpoint.

    `data` gives `train_batches(stage, epoch, rank, world_size) -> iterator` and `validation_batches(stage) -> list`;
    `run_state` (the configuration, the data's manifest hash) is written into every checkpoint's state.json;
    `sample(model, step)`, called on the chief at each validation, returns frames to log (or None).
    Returns the last step's metrics.
    """
    if context.device.type == "cpu":
        torch.set_num_threads(train.threads)
    resume = latest_checkpoint(run)
    start = 0
    if resume is not None:
        from models.training.checkpoints import load_model_weights

        load_model_weights(model, resume)
        start = resume.step
        if context.is_chief:
            log.info("resuming from %s (step %d of %d)", resume.path, start, train.total_steps)
    model.to(context.device)
    use_checkpointing = train.gradient_checkpointing == "on" or (
        train.gradient_checkpointing == "auto" and context.device.type == "cuda"
    )
    if use_checkpointing:
        model.enable_gradient_checkpointing()
    run_log = RunLog(run, start, enabled=context.is_chief, total=train.total_steps, every=train.log_every)
    metrics: dict[str, Any] = {"step": start}
    state: StageState | None = None
    batches: Iterator[dict[str, Any]] | None = None
    if start == 0:  # the untrained model's validation loss: where the curve starts
        first = train.stages[0]
        run_log.validation(0, first.name, validation_loss(model, data.validation_batches(first), first, train, context))
    for step in range(start, train.total_steps):
        stage, in_stage = train.stage_at(step)
        index = train.stages.index(stage)
        if state is None or state.index != index:
            state = start_stage(model, train, index, context, resume if step == start else None, in_stage)
            batches = None
        if batches is None or in_stage % train.checkpoint_every == 0:
            epoch = segment_epoch(index, in_stage, train.checkpoint_every)
            batches = iter(data.train_batches(stage, epoch, context.rank, context.world_size))
        began = time.perf_counter()
        model.train()
        generator = torch.Generator(device=context.device).manual_seed(step_seed(train.seed, context.rank, step))
        learning_rate = state.optimizer.param_groups[0]["lr"]
        loss = optimiser_step(state, batches, generator, context, train.mixed_precision)
        metrics = {
            "step": step + 1,
            "stage": stage.name,
            "loss": loss,
            "learning_rate": learning_rate,
            "seconds": time.perf_counter() - began,
            **peak_memory_mb(context.device),
        }
        run_log.step(metrics)
        done = step + 1
        if done % train.validate_every == 0 or in_stage + 1 == stage.steps:  # and at every stage's end
            metrics["validation_loss"] = validation_loss(model, data.validation_batches(stage), stage, train, context)
            run_log.validation(done, stage.name, metrics["validation_loss"])
            if sample is not None and context.is_chief:
                frames = sample(model, done)  # uint8 [T, H, W, 3]: ground truth beside the generated video
                if frames is not None:
                    run_log.frames(done, "sample", frames)
            if in_stage + 1 == stage.steps and index + 1 < len(train.stages):
                # the next stage's task before its first step, logged before the checkpoint below: a run resumed at
                # the stage boundary then logs it once
                following = train.stages[index + 1]
                loss_before = validation_loss(model, data.validation_batches(following), following, train, context)
                run_log.validation(done, following.name, loss_before)
        if is_segment_end(stage, in_stage, train.checkpoint_every):
            if context.is_chief:
                save_checkpoint(
                    run,
                    done,
                    model=model,
                    optimizer=state.optimizer,
                    ema=state.ema_tensors(),
                    keep=train.keep_checkpoints,
                    state={
                        **run_state,
                        "stage": stage.name,
                        "ema_step": state.ema.optimization_step if state.ema is not None else None,
                    },
                )
    run_log.close()
    return metrics


@torch.no_grad()
def validation_loss(
    model: Any, batches: list[dict[str, Any]], stage: StageConfig, train: TrainConfig, context: WorkerContext
) -> float:
    """The mean loss over fixed batches with fixed noise (a seed per batch): comparable across steps and runs."""
    if not batches:
        return float("nan")
    model.eval()
    losses = []
    for i, batch in enumerate(batches):
        generator = torch.Generator(device=context.device).manual_seed(step_seed(train.seed, -1, i))
        with autocast(context.device, train.mixed_precision):
            losses.append(float(model.training_loss(to_device(batch, context.device), stage.name, generator)))
    model.train()
    return sum(losses) / len(losses)
