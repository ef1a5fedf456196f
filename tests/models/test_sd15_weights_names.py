"""`backdrop weights` names every pretrained folder the sd15 configuration loads, with the files diffusers and
transformers read there (config + weights), so `backdrop weights download sd15` fills exactly that layout."""

from __future__ import annotations

from pathlib import PurePosixPath

from curation.weights import select
from models.config import named_model_config


def test_the_sd15_group_is_the_configuration_s_folders() -> None:
    config = named_model_config("sd15")
    folders = {
        config.unet.pretrained,
        config.image_encoder.pretrained,
        config.codec.pretrained,
        config.motion.pretrained,
    }
    entries = select(["sd15"])
    by_folder: dict[str, set[str]] = {}
    for entry in entries:
        path = PurePosixPath(entry.filename)
        by_folder.setdefault(str(path.parent), set()).add(path.name)
    assert set(by_folder) == folders
    for folder, files in by_folder.items():
        weights = "model.safetensors" if "image_encoder" in folder else "diffusion_pytorch_model.safetensors"
        assert files == {"config.json", weights}, folder
