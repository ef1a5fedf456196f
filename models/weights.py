"""Where pretrained model parts are found, and how they load: local folders only (`local_files_only=True`).

Pretrained parts are folders in the diffusers / transformers layout, named in a config relative to the weights
directory (`$BACKDROP_WEIGHTS`, else ~/.cache/backdrop/weights; see curation.weights.registry) or absolute. The
`sd15` configuration expects, under the weights directory (the Hugging Face repositories they are copies of, fetched
by hand: nothing here downloads):

    sd-image-variations-diffusers/unet/           lambdalabs/sd-image-variations-diffusers, subfolder unet
        config.json, diffusion_pytorch_model.safetensors   (SD 1.5's UNet architecture, fine-tuned on CLIP image
                                                             embeddings: the anchor's starting point)
    sd-image-variations-diffusers/image_encoder/  the same repository, subfolder image_encoder
        config.json, model.safetensors                     (CLIPVisionModelWithProjection, ViT-L/14, 768-d)
    sd-vae-ft-mse/                                stabilityai/sd-vae-ft-mse
        config.json, diffusion_pytorch_model.safetensors
    animatediff-motion-adapter-v1-5-2/            guoyww/animatediff-motion-adapter-v1-5-2 (AnimateDiff mm_sd_v15_v2
        config.json, diffusion_pytorch_model.safetensors    in diffusers' MotionAdapter format)

Any SD 1.5 UNet folder (e.g. stable-diffusion-v1-5's `unet/`) works in place of the first: point `unet.pretrained`
at it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curation.weights.registry import default_weights_dir
from models.components.codecs import Codec, DctCodec, PixelUnshuffleCodec, VaeCodec
from models.config import CodecConfig

__all__ = ["MissingWeightsError", "build_codec", "check_matches", "load_unet2d", "resolve_pretrained"]


class MissingWeightsError(FileNotFoundError):
    """A configured pretrained folder that is not on this machine; the message says where it was looked for."""


def resolve_pretrained(name: str, weights_dir: str | Path | None, part: str) -> Path:
    """The folder of a pretrained part: `name` itself when absolute, else under `weights_dir` (default: the
    weights directory). A missing folder raises MissingWeightsError naming the part and the path."""
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = Path(weights_dir or default_weights_dir()).expanduser() / path
    if not path.is_dir():
        raise MissingWeightsError(
            f"{part}: pretrained folder {path} not found (see models/weights.py for the expected layout; "
            "build with random_init=True to run without weights)"
        )
    return path


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple | list) else value


def check_matches(loaded: Any, expected: dict[str, Any], source: Path) -> None:
    """Refuse a pretrained part whose config differs from the configuration's on a key both name."""
    different = {k: (_plain(loaded[k]), _plain(v)) for k, v in expected.items() if k in loaded}
    different = {k: pair for k, pair in different.items() if pair[0] != pair[1]}
    if different:
        raise ValueError(f"{source}: config differs from the model config (found, expected): {different}")


def load_unet2d(path: Path, expected: dict[str, Any]):
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(str(path), local_files_only=True)
    check_matches(unet.config, expected, path)
    return unet


def build_codec(config: CodecConfig, weights_dir: str | Path | None = None, random_init: bool = False) -> Codec:
    """Pixel-unshuffle, the DCT codec, or a VAE from its local folder (randomly initialised from `config.config` when
    `random_init`: same cost, meaningless latents, for speed checks)."""
    if config.kind == "pixel_unshuffle":
        return PixelUnshuffleCodec(config.factor, config.scale or 1.0)
    if config.kind == "dct":
        return DctCodec(config.factor, config.luma, config.chroma, config.scale or 1.0)
    if random_init:
        from diffusers import AutoencoderKL

        return VaeCodec(AutoencoderKL(**config.config), config.scale)
    return VaeCodec.from_pretrained(resolve_pretrained(config.pretrained, weights_dir, "codec"), config.scale)
