"""The reference models by kind (models.config.ModelConfig.kind): how each is built, which inputs its data pipeline
renders, and which pipeline generates with it. Training (`backdrop train`) and generation (`backdrop generate`)
go through here, so a configuration's `kind` is all it takes to train and generate any of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from models.config import ModelConfig
from models.data.background import BackgroundInputs

__all__ = ["background_inputs_for", "build_model", "pipeline_for"]


def build_model(config: ModelConfig, weights_dir: str | Path | None = None, random_init: bool = False) -> Any:
    """The model of `config.kind`, built as its builder does (see models.animate_anyone, models.disentangled,
    models.animate_anywhere)."""
    if config.kind == "disentangled":
        from models.disentangled import build_disentangled

        return build_disentangled(config, weights_dir, random_init)
    if config.kind == "animate_anywhere":
        from models.animate_anywhere import build_animate_anywhere

        return build_animate_anywhere(config, weights_dir, random_init)
    from models.animate_anyone import build_animate_anyone

    return build_animate_anyone(config, weights_dir, random_init)


def background_inputs_for(config: ModelConfig) -> BackgroundInputs | None:
    """What the data pipeline renders from the shard's tracks for this kind of model (None: nothing)."""
    if config.kind == "disentangled":
        from models.disentangled import background_inputs

        return background_inputs(config)
    if config.kind == "animate_anywhere":
        a = config.animate_anywhere
        return BackgroundInputs(epipolar=a.bml and a.epipolar_loss)
    return None


def pipeline_for(model: Any) -> Any:
    """The inference pipeline of a built model."""
    if model.config.kind == "disentangled":
        from models.pipelines.pipeline_disentangled import DisentangledPipeline

        return DisentangledPipeline(model)
    from models.pipelines.pipeline_animate_anyone import AnimateAnyonePipeline

    return AnimateAnyonePipeline(model)
