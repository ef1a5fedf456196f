"""The reference-copy probe (jobs.bench.reference_copy): its errors against a stand-in whose answers are known, the
tiny model's reference reaching its prediction, the image-stage-only training it derives from a run, and refusals."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
import torch
from diffusers import DDPMScheduler

from jobs.bench.reference_copy import TIMESTEPS, probe_training, reference_errors, target_batch
from models.animate_anyone import build_animate_anyone
from models.config import named_model_config


def _batch(seed: int = 0, size: int = 16) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {
        "frames": torch.rand(2, 1, 3, size, size, generator=g) * 2 - 1,
        "pose_images": torch.rand(2, 1, 3, size, size, generator=g),
        "reference": torch.rand(2, 3, size, size, generator=g) * 2 - 1,
    }


class _CopyingStandIn:
    """Predicts the reference latents when the reference is kept and zeros when it is dropped; its codec is the
    identity, so every error of the probe has a closed form."""

    def __init__(self) -> None:
        scheduler = SimpleNamespace(prediction_type="sample")
        self.config = SimpleNamespace(name="stand-in", kind="animate_anyone", scheduler=scheduler)
        self.noise_scheduler = DDPMScheduler(num_train_timesteps=1000)
        self.codec = SimpleNamespace(encode=lambda images, generator: images.clone())
        self.bank = SimpleNamespace(clear=self._clear)
        self.training, self.kept, self.cleared = True, None, 0

    def _clear(self) -> None:
        self.cleared += 1
        self.kept = None

    def eval(self) -> None:
        self.training = False

    def train(self, mode: bool = True) -> None:
        self.training = mode

    def encode_frames(self, frames: torch.Tensor, generator) -> torch.Tensor:
        return frames.transpose(1, 2).clone()  # [B, F, C, H, W] -> [B, C, F, H, W]

    def image_encoder(self, reference: torch.Tensor) -> torch.Tensor:
        return torch.ones(reference.shape[0], 1, 4)

    def pose_features(self, pose_images: torch.Tensor) -> None:
        return None

    def write_reference(self, latents: torch.Tensor, embeds: torch.Tensor, keep: torch.Tensor) -> None:
        assert keep.all() or not keep.any()
        assert torch.equal(embeds != 0, keep[:, None, None].expand_as(embeds))  # a dropped reference: zero token
        self.kept = latents if keep.all() else None

    def denoise(self, noisy, steps, embeds, features, temporal: bool) -> torch.Tensor:
        assert not temporal
        if self.kept is None:
            return torch.zeros_like(noisy)
        return self.kept[:, :, None].expand_as(noisy)


def test_target_batch_identity_asks_for_the_reference_and_refuses_unknown_targets() -> None:
    batch = _batch()
    assert target_batch(batch, "other frame") is batch
    identity = target_batch(batch, "identity")
    assert torch.equal(identity["frames"][:, 0], batch["reference"])
    assert torch.equal(identity["pose_images"], batch["pose_images"])
    with pytest.raises(ValueError, match="'mirror'"):
        target_batch(batch, "mirror")


def test_errors_of_a_stand_in_that_copies_have_their_closed_form() -> None:
    batch, model = _batch(), _CopyingStandIn()
    frames, reference = batch["frames"][:, 0], batch["reference"]
    other = reference_errors(model, batch)
    identity = reference_errors(model, target_batch(batch, "identity"))
    assert other["copy"] == pytest.approx(float(((reference - frames) ** 2).mean()), rel=1e-6)
    assert identity["copy"] == 0.0
    for t in TIMESTEPS:
        assert other[f"kept {t}"] == pytest.approx(other["copy"], rel=1e-6)  # kept: the copy's error
        assert other[f"dropped {t}"] == pytest.approx(float((frames**2).mean()), rel=1e-6)  # dropped: zeros'
        assert identity[f"kept {t}"] == 0.0
        assert identity[f"dropped {t}"] == pytest.approx(float((reference**2).mean()), rel=1e-6)
    assert model.training and model.kept is None and model.cleared >= 2  # mode restored, bank cleared


def _tiny(**scheduler) -> object:
    config = named_model_config("tiny")
    scheduler_config = dataclasses.replace(config.scheduler, **scheduler)
    return build_animate_anyone(dataclasses.replace(config, scheduler=scheduler_config))


def test_the_tiny_models_reference_reaches_its_prediction_and_the_probe_leaves_no_trace() -> None:
    model = _tiny(prediction_type="sample")
    batch = _batch(size=128)
    before = {name: p.clone() for name, p in model.state_dict().items()}
    errors = reference_errors(model, target_batch(batch, "identity"))
    assert errors["copy"] == 0.0
    assert all(torch.isfinite(torch.tensor(v)) for v in errors.values())
    for t in TIMESTEPS:  # a random model reads its reference: keeping it changes the prediction
        assert errors[f"kept {t}"] != pytest.approx(errors[f"dropped {t}"], rel=1e-4)
    assert errors == reference_errors(model, target_batch(batch, "identity"))  # seeded noise: repeatable
    assert len(model.bank) == 0 and model.training
    assert all(torch.equal(before[name], p) for name, p in model.state_dict().items())


def test_the_probe_refuses_models_it_cannot_read() -> None:
    with pytest.raises(ValueError, match=r"prediction_type 'sample', not 'v_prediction'"):
        reference_errors(_tiny(prediction_type="v_prediction"), _batch(size=128))
    stand_in = _CopyingStandIn()
    stand_in.config.kind = "disentangled"
    with pytest.raises(ValueError, match="stand-in: kind 'disentangled' reads track inputs"):
        reference_errors(stand_in, _batch())


def test_probe_training_keeps_the_image_stage_alone_at_the_asked_length() -> None:
    run = {
        "train": {
            "seed": 3,
            "stages": [
                {"name": "image", "steps": 1000, "batch_size": 4, "learning_rate": 1e-3, "warmup_steps": 25},
                {"name": "video", "steps": 600, "batch_size": 2, "learning_rate": 1e-3},
            ],
        }
    }
    train = probe_training(run, 300)
    assert train.seed == 3 and [s.name for s in train.stages] == ["image"]
    image = train.stages[0]
    assert (image.steps, image.batch_size, image.learning_rate, image.warmup_steps) == (300, 4, 1e-3, 25)
    assert probe_training(run, 10).stages[0].warmup_steps == 9  # cut to fit a short stage
    with pytest.raises(ValueError, match="no image stage"):
        probe_training({"train": {"stages": [run["train"]["stages"][1]]}}, 10)
