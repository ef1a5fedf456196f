"""The AnimateAnywhere-style model on a micro configuration: a fresh Background Motion Learner computes exactly
what the baseline computes; a BML layer is h_out = T(h_in + h_pose) + B(h_in + h_pose); the image stage bypasses it;
the epipolar loss joins the video stage's loss and reaches the BML's 3D attention; the losses fall."""

from __future__ import annotations

import pytest
import torch

from models.animate_anywhere import AnimateAnywhere
from models.components.background_motion import BackgroundMotionLayer, LowRank3DAttention
from models.config import ModelConfigError
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


def _attention_on_uniform_content(rope: bool) -> torch.Tensor:
    """The branch's attention [tokens, tokens] over 2 frames of a 4x4 grid in which every token has one content."""
    torch.manual_seed(0)
    branch = LowRank3DAttention(8, 16, 1, rope=rope)
    torch.nn.init.normal_(branch.qkv.weight, std=1.0)
    branch.keep_attention = True
    content = torch.randn(8, 1, 1)
    hidden = content.expand(8, 4, 4)[None].repeat(2, 1, 1, 1)  # (batch 1 x 2 frames), 8 channels, 4x4
    hidden = hidden + 1e-3 * torch.randn_like(hidden)  # the GroupNorm needs some spread; the content stays one
    with torch.no_grad():
        branch(hidden, num_frames=2)
    return branch.attention[0, 0]


def test_without_a_position_code_the_3d_attention_cannot_tell_places_apart_and_with_rope_it_can() -> None:
    plain = _attention_on_uniform_content(False)
    assert torch.allclose(plain, torch.full_like(plain, 1 / 32), atol=2e-3)  # all places alike
    rope = _attention_on_uniform_content(True)
    assert rope.max() > 3 / 32  # places are told apart
    # and by their offsets alone: a query's preference between two keys is the same one place further on
    logits = rope.log()

    def index(frame: int, row: int, col: int) -> int:
        return frame * 16 + row * 4 + col

    for frame_shift in (0, 1):
        a = logits[index(0, 0, 0), index(frame_shift, 1, 2)] - logits[index(0, 0, 0), index(0, 2, 1)]
        b = logits[index(0, 1, 1), index(frame_shift, 2, 3)] - logits[index(0, 1, 1), index(0, 3, 2)]
        assert torch.allclose(a, b, atol=0.05)


def test_rope_needs_a_rank_in_sixteens_and_a_fresh_bml_with_it_is_still_the_baseline(models: tuple) -> None:
    with pytest.raises(ValueError, match="rank 8"):
        LowRank3DAttention(8, 8, 1, rope=True)
    with pytest.raises(ModelConfigError, match=r"animate_anywhere\.rope: .*rank 8"):
        micro_config("animate_anywhere", animate_anywhere={"rope": True, "rank": 8})
    baseline, _ = models
    anywhere = build_model(micro_config("animate_anywhere", animate_anywhere={"rope": True})).eval()
    assert all(b.rope for b in anywhere.branches())
    batch = random_batch(4)
    assert torch.equal(_denoise(baseline, batch, True), _denoise(anywhere, batch, True))
    _randomise_bml(anywhere)
    plain = build_model(micro_config("animate_anywhere")).eval()
    _randomise_bml(plain)
    assert not torch.allclose(_denoise(anywhere, batch, True), _denoise(plain, batch, True))
