"""A micro model configuration for fast model tests (64 px, two UNet levels), of any kind."""

from __future__ import annotations

from typing import Any

import torch

from models.config import ModelConfig, load_model_config


def micro_config(kind: str = "animate_anyone", **sections: Any) -> ModelConfig:
    model = {
        "name": f"micro_{kind}",
        "kind": kind,
        "resolution": [64, 64],
        "frames": 4,
        "unet": {"config": {
            "sample_size": 8, "in_channels": 192, "out_channels": 192, "block_out_channels": [32, 64],
            "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
            "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "layers_per_block": 1, "attention_head_dim": 8,
            "norm_num_groups": 32, "cross_attention_dim": 32,
        }},
        "motion": {"num_attention_heads": 4, "max_seq_length": 32},
        "pose_guider": {"block_out_channels": [16, 32, 32, 32]},
        "image_encoder": {"config": {
            "image_size": 32, "patch_size": 8, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 2, "projection_dim": 32,
        }},
        "context_frames": 4,
        "context_overlap": 1,
        **sections,
    }  # fmt: skip
    if kind == "disentangled":
        model["disentangled"] = {"track_guider_channels": [16, 32, 32, 32], **model.get("disentangled", {})}
    if kind == "animate_anywhere":
        model["animate_anywhere"] = {"max_tokens": 64, **model.get("animate_anywhere", {})}
    return load_model_config(model)


def random_batch(frames: int, channels: int = 0, epipolar: bool = False, seed: int = 0, size: int = 64) -> dict:
    """Two clips of random frames, poses and references; `channels` > 0 adds track maps of that many channels;
    `epipolar` adds a geometry: frames related by horizontal translations (fundamental matrices [t]x)."""
    g = torch.Generator().manual_seed(seed)
    batch = {
        "frames": torch.rand(2, frames, 3, size, size, generator=g) * 2 - 1,
        "pose_images": torch.rand(2, frames, 3, size, size, generator=g),
        "reference": torch.rand(2, 3, size, size, generator=g) * 2 - 1,
        "key": ["a", "b"],
    }
    if channels:
        batch["track_maps"] = torch.rand(2, frames, channels, size, size, generator=g)
    if epipolar:
        skew = torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
        batch["epipolar_matrices"] = skew.expand(2, frames, frames, 3, 3).clone()
        batch["epipolar_kinds"] = torch.full((2, frames, frames), 2) * (1 - torch.eye(frames, dtype=torch.long))
    return batch


def steps_lower_the_loss(model: Any, batch: dict, stage: str, steps: int, lr: float = 1e-3) -> tuple[float, float]:
    """(loss before, loss after) `steps` AdamW steps of `stage` on one batch, with the same noise each time."""
    model.set_stage(stage)
    optimizer = torch.optim.AdamW(model.trainable_parameters(stage), lr=lr)

    def loss() -> torch.Tensor:
        return model.training_loss(batch, stage, torch.Generator().manual_seed(11))

    with torch.no_grad():
        start = float(loss())
    for _ in range(steps):
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()
    with torch.no_grad():
        end = float(loss())
    return start, end
