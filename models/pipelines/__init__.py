"""Inference pipelines (one module per model, as diffusers lays out its own; what they share in models.pipelines.base)."""

from models.pipelines.pipeline_animate_anyone import AnimateAnyonePipeline

__all__ = ["AnimateAnyonePipeline"]
