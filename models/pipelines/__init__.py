"""Inference pipelines (one module per model, as diffusers lays out its own; their shared parts in base.py)."""

from models.pipelines.pipeline_animate_anyone import AnimateAnyonePipeline

__all__ = ["AnimateAnyonePipeline"]
