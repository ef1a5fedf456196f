"""`models.training` on Ray Train (v2): one `TorchTrainer` worker per data-parallel rank, gloo on CPUs, NCCL on GPUs.

The loop itself resumes from the run folder's latest checkpoint, so Ray's own restarts (`FailureConfig`) and a new
`backdrop train` after a kill both continue from there; RUN must be on storage that every node sees.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from models.training.run import run_training
from models.training.run_dir import RunFolder


def quiet_worker_logs() -> None:
    """A Ray worker set-up hook: without Ray's dashboard (a local Ray here starts none), Ray Train's placement-group
    cleaner cannot reach the state API and warns about it every few seconds for the whole run; that warning says
    nothing about the training."""
    logging.getLogger("ray.train.v2._internal.execution.controller.placement_group_cleaner").setLevel(logging.ERROR)
    # On a loaded machine the controller's resource request to the autoscaler times out and it logs a traceback,
    # then goes on ("safe to ignore", says the message); a single machine has no autoscaler to ask.
    logging.getLogger("ray.train.v2._internal.execution.scaling_policy.autoscaling_coordinator_client").setLevel(
        logging.CRITICAL
    )


def start_autoscaling_coordinator() -> None:
    """Start the actor Ray Train's controller asks for resources, and wait until it is up. The controller creates it
    on first use and waits 5 s for its answer; starting a Python process takes longer than that on a loaded or small
    machine (9 s here), so every local run printed a traceback ("Failed to send resource request ...
    GetTimeoutError") before training began. The actor is Ray's own (a private module of Ray Data): on a Ray without
    it there is nothing to prepare."""
    import ray

    try:
        from ray.data._internal.cluster_autoscaler.default_autoscaling_coordinator import (
            get_or_create_autoscaling_coordinator,
        )
    except ImportError:
        return
    ray.get(get_or_create_autoscaling_coordinator().__ray_ready__.remote())


def _train_loop_per_worker(config: dict[str, Any]) -> None:
    import ray.train
    import ray.train.torch

    from models.training.loop import WorkerContext

    context = ray.train.get_context()
    worker = WorkerContext(
        rank=context.get_world_rank(),
        world_size=context.get_world_size(),
        device=ray.train.torch.get_device(),
        # every trainable parameter of a stage gets a gradient on every step (a dropped reference is masked, not
        # skipped), so DDP needs no search for unused ones; `forward` is the training loss, which DDP syncs through
        prepare_model=ray.train.torch.prepare_model,
    )
    weights = Path(config["weights_dir"]) if config["weights_dir"] else None
    run_training(config["run"], worker, weights_dir=weights)


def train_on_ray(
    run: RunFolder,
    *,
    workers: int,
    use_gpu: bool,
    threads: int,
    weights_dir: Path | None,
    max_failures: int = 2,
) -> None:
    """Run the training loop on `workers` Ray Train workers (Ray already initialised)."""
    from ray.train import FailureConfig, LoggingConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    os.environ.setdefault("RAY_TRAIN_V2_ENABLED", "1")
    start_autoscaling_coordinator()
    trainer = TorchTrainer(
        _train_loop_per_worker,
        train_loop_config={"run": run, "weights_dir": str(weights_dir) if weights_dir else None},
        scaling_config=ScalingConfig(
            num_workers=workers, use_gpu=use_gpu, resources_per_worker={"CPU": threads, "GPU": 1 if use_gpu else 0}
        ),
        torch_config=TorchConfig(backend="nccl" if use_gpu else "gloo"),
        run_config=RunConfig(
            name="ray-train",
            storage_path=str(run.path.resolve()),
            failure_config=FailureConfig(max_failures=max_failures),
            # the chief's progress lines once each (Ray's print patch would log them a second time), and Ray Train's
            # own per-report lines kept off the console
            worker_runtime_env={"env_vars": {"RAY_TRAIN_ENABLE_PRINT_PATCH": "0"}},
            logging_config=LoggingConfig(log_level="WARNING"),
        ),
    )
    trainer.fit()
