"""The AnimateAnywhere-style model on a micro configuration: a fresh Background Motion Learner computes exactly
what the baseline computes; a BML layer is h_out = T(h_in + h_pose) + B(h_in + h_pose); the image stage bypasses it;
the epipolar loss joins the video stage's loss and reaches the BML's 3D attention; the losses fall."""

from __future__ import annotations

import pytest
import torch

from models.animate_anywhere import AnimateAnywhere
from models.components.background_motion import BackgroundMotionLayer, LowRank3DAttention
from models.registry import build_model
from tests.helpers.models import micro_config, random_batch, steps_lower_the_loss


def _denoise(model, batch: dict, temporal: bool) -> torch.Tensor:
    frames = batch["frames"].shape[1]
    noisy = torch.randn(2, 192, frames, 8, 8, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        tokens = model.image_encoder(batch["reference"])
        model.write_reference(model.codec.encode(batch["reference"]), tokens)
        return model.denoise(
            noisy, torch.tensor([400, 400]), tokens, model.pose_features(batch["pose_images"]), temporal
        )


def _randomise_bml(model: AnimateAnywhere) -> None:
    torch.manual_seed(1)
    with torch.no_grad():
        for layer in model.denoising_unet.modules():
            if isinstance(layer, BackgroundMotionLayer):
                layer.pose_projection.weight.normal_(0, 0.1)
                if layer.branch is not None:
                    layer.branch.out.weight.normal_(0, 0.1)


@pytest.fixture(scope="module")
def models() -> tuple:
    return build_model(micro_config("animate_anyone")).eval(), build_model(micro_config("animate_anywhere")).eval()


def test_a_fresh_bml_is_the_baseline_and_the_image_stage_bypasses_it(models: tuple) -> None:
    baseline, anywhere = models
    batch = random_batch(4)
    assert torch.equal(_denoise(baseline, batch, True), _denoise(anywhere, batch, True))
    trained = build_model(micro_config("animate_anywhere")).eval()
    _randomise_bml(trained)
    assert not torch.allclose(_denoise(trained, batch, True), _denoise(baseline, batch, True))
    assert torch.equal(_denoise(trained, batch, False), _denoise(baseline, batch, False))
    layers = [m for m in trained.modules() if isinstance(m, BackgroundMotionLayer)]
    assert layers and all(m.branch is not None for m in layers)  # 64 and 16 tokens per frame: within max_tokens


def test_a_bml_layer_is_t_plus_b_of_the_input_plus_pose() -> None:
    model = build_model(micro_config("animate_anywhere")).eval()
    _randomise_bml(model)
    layer = next(m for m in model.modules() if isinstance(m, BackgroundMotionLayer) and m.branch is not None)
    hidden = torch.randn(8, layer.pose_projection.out_channels, 8, 8)
    pose = torch.randn(8, 32, 8, 8)
    layer.context.features = pose
    with torch.no_grad():
        out = layer(hidden, num_frames=4)
        x = hidden + layer.pose_projection(pose)
        expected = layer.temporal(x, num_frames=4) + layer.branch(x, 4)
    layer.context.features = None
    assert torch.allclose(out, expected, atol=1e-6)


def test_the_epipolar_loss_joins_the_video_stage_and_reaches_the_3d_attention() -> None:
    model = build_model(micro_config("animate_anywhere"))
    _randomise_bml(model)
    model.set_stage("video")
    batch = random_batch(4, epipolar=True, seed=6)
    with_loss = model.training_loss(batch, "video", torch.Generator().manual_seed(4))
    branches = [m for m in model.modules() if isinstance(m, LowRank3DAttention)]
    assert branches and all(b.attention is None and not b.keep_attention for b in branches)  # released after use
    with_loss.backward()
    assert all(b.qkv.weight.grad is not None and b.qkv.weight.grad.abs().sum() > 0 for b in branches)
    off = build_model(micro_config("animate_anywhere", animate_anywhere={"epipolar_loss": False}))
    off.load_state_dict(model.state_dict())
    with torch.no_grad():
        diffusion = off.training_loss(batch, "video", torch.Generator().manual_seed(4))
        auxiliary = float(with_loss.detach()) - float(diffusion)
    assert auxiliary > 0
    with pytest.raises(KeyError):  # the epipolar loss needs the geometry from the data pipeline
        model.training_loss(random_batch(4), "video", torch.Generator().manual_seed(4))


def test_each_stage_trains_and_the_loss_falls() -> None:
    model = build_model(micro_config("animate_anywhere"))
    start, end = steps_lower_the_loss(model, random_batch(1, seed=3), "image", 20)
    assert end < 0.85 * start, (start, end)
    start, end = steps_lower_the_loss(model, random_batch(4, epipolar=True, seed=4), "video", 20)
    assert end < start, (start, end)
    bml_off = build_model(micro_config("animate_anywhere", animate_anywhere={"bml": False, "epipolar_loss": False}))
    assert not any(isinstance(m, BackgroundMotionLayer) for m in bml_off.modules())
