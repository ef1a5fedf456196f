"""Pretrained parts load from local folders (diffusers / transformers layout, local_files_only=True), named in the
config relative to the weights directory: tiny parts saved with save_pretrained, then built through a config."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from diffusers import AutoencoderKL

from models.animate_anyone import build_animate_anyone
from models.components.image_encoder import ImageEncoder
from models.components.unets import motion_adapter_for, temporal_layers, unet2d_from_config
from models.config import CONFIGS_DIR, load_model_config


def _vae_config() -> dict:
    data = yaml.safe_load((CONFIGS_DIR / "tiny.yaml").read_text())["model"]
    data["unet"]["config"].update(in_channels=4, out_channels=4)
    data["codec"] = {"kind": "vae", "pretrained": "vae", "scale": None}
    vae = {"block_out_channels": [8, 8, 8, 8], "norm_num_groups": 8, "latent_channels": 4, "layers_per_block": 1}
    vae |= {"down_block_types": ["DownEncoderBlock2D"] * 4, "up_block_types": ["UpDecoderBlock2D"] * 4}
    data["codec"]["config"] = vae
    return data


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    """A weights directory holding a tiny UNet, motion adapter, CLIP and VAE, and the config naming them."""
    root = tmp_path_factory.mktemp("weights")
    data = _vae_config()
    torch.manual_seed(7)
    unet = unet2d_from_config(data["unet"]["config"])
    adapter = motion_adapter_for(unet, load_model_config(data).motion)
    for layer in temporal_layers(adapter):  # "trained" temporal layers: not the zero initialisation
        torch.nn.init.normal_(layer.proj_out.weight, std=0.02)
    clip = ImageEncoder.from_config(data["image_encoder"]["config"]).clip
    vae = AutoencoderKL(**data["codec"]["config"], scaling_factor=0.5)
    for part, name in ((unet, "sd/unet"), (adapter, "motion"), (clip, "sd/image_encoder"), (vae, "vae")):
        part.save_pretrained(root / name)
    data["unet"]["pretrained"] = "sd/unet"
    data["motion"]["pretrained"] = "motion"
    data["image_encoder"]["pretrained"] = "sd/image_encoder"
    parts = {"unet": unet, "motion": adapter, "clip": clip, "vae": vae}
    return root, data, parts


def _same(a: torch.nn.Module, b: torch.nn.Module, prefix: str = "") -> None:
    state = b.state_dict()
    for name, value in a.state_dict().items():
        assert torch.equal(value, state[prefix + name]), name


def test_parts_load_from_the_weights_directory(saved) -> None:
    root, data, parts = saved
    model = build_animate_anyone(load_model_config(data), weights_dir=root)
    _same(parts["unet"], model.reference_unet)
    _same(parts["clip"], model.image_encoder.clip)
    _same(parts["vae"], model.codec.vae)
    assert model.codec.scale == 0.5  # scale: null in the config means the VAE's own scaling factor
    motion = {k: v for k, v in model.denoising_unet.state_dict().items() if "motion_modules" in k}
    adapter = parts["motion"].state_dict()
    assert len(motion) == len(adapter)
    assert all(torch.equal(v, adapter[k]) for k, v in motion.items())
    spatial = model.denoising_unet.state_dict()["down_blocks.0.attentions.0.proj_in.weight"]
    assert torch.equal(spatial, parts["unet"].state_dict()["down_blocks.0.attentions.0.proj_in.weight"])
    batch = {"frames": torch.rand(1, 2, 3, 128, 128) * 2 - 1, "pose_images": torch.rand(1, 2, 3, 128, 128)}
    batch["reference"] = torch.rand(1, 3, 128, 128) * 2 - 1
    assert torch.isfinite(model.training_loss(batch, "video", torch.Generator().manual_seed(0)))


def test_absolute_paths_and_random_init(saved) -> None:
    root, data, parts = saved
    absolute = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    for section in ("unet", "motion", "image_encoder", "codec"):
        absolute[section]["pretrained"] = str(root / data[section]["pretrained"])
    model = build_animate_anyone(load_model_config(absolute), weights_dir=root / "elsewhere")
    _same(parts["unet"], model.reference_unet)
    # random_init ignores every pretrained folder (and needs none)
    random = build_animate_anyone(load_model_config(data), weights_dir=root / "missing", random_init=True)
    name = "conv_in.weight"
    assert not torch.equal(random.reference_unet.state_dict()[name], parts["unet"].state_dict()[name])


def test_a_folder_whose_architecture_differs_is_refused(saved) -> None:
    root, data, _ = saved
    other = {**data, "unet": {**data["unet"], "config": {**data["unet"]["config"], "cross_attention_dim": 32}}}
    with pytest.raises(ValueError, match="cross_attention_dim"):
        build_animate_anyone(load_model_config(other), weights_dir=root)
