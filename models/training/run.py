"""One worker's whole training run: the configuration read from the run folder, the model built (seeded), the
shard batches, sample videos at each validation, then `models.training.loop.train_worker`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from models.training.loop import WorkerContext, train_worker
from models.training.run_dir import RunFolder


def run_training(run: RunFolder, context: WorkerContext, *, weights_dir: Path | None = None) -> dict[str, Any]:
    from models.config import load_model_config
    from models.registry import background_inputs_for, build_model
    from models.training.config import train_config_from_dict
    from models.training.data import ShardBatches

    model_config = load_model_config(run.config["model"])
    train = train_config_from_dict(run.config["train"])
    model = build_model(model_config, weights_dir)
    data = ShardBatches(
        run.shards, train, tuple(model_config.resolution), model_config.frames, background_inputs_for(model_config)
    )

    def sample(trained: Any, step: int) -> np.ndarray | None:
        if train.sample_steps == 0:
            return None
        from models.generation import sample_strip

        return sample_strip(trained, data, run.path / "samples" / f"step-{step:08d}.mp4", train.sample_steps)

    return train_worker(run.path, model, train, data, context, run_state=run.state(), sample=sample)
