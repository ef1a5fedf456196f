"""The weights registry: every file a learned backend or a metric reads, under one name each.

An entry gives the canonical file name (looked up in a weights directory), the canonical URL (None where the
publisher offers no direct link: the file is fetched by hand, and `note` says from where), the hash to check it
against, the licence and what in backdrop reads it. The entry's name is the network's name everywhere: in
`backdrop weights`, in `backdrop score --weights NAME=PATH`, in protocols and in error messages.

Hashes: a file's sha256 is taken from its publisher where the publisher gives one (OpenAI's CLIP URLs carry the full
sha256; torch.hub-style names such as `pt_inception-2015-12-05-6726825d.pth` carry its first hex digits, checked as
a prefix). Where nobody publishes one, nothing is written here: the sha256 is computed at the first download and
recorded in a lock file (see `curation.weights.fetch`).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "REGISTRY",
    "WEIGHTS",
    "UnknownWeightsError",
    "WeightFile",
    "default_weights_dir",
    "get_entry",
    "how_to_get",
    "select",
    "weights_path",
]

_PYIQA = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main/"
_DWPOSE = "https://huggingface.co/yzd-v/DWPose/resolve/main/"
_SAM2 = "https://dl.fbaipublicfiles.com/segment_anything_2/092824/"
_COTRACKER = "https://huggingface.co/facebook/cotracker3/resolve/main/"
_CLIP = "https://openaipublic.azureedge.net/clip/models/"


class UnknownWeightsError(ValueError):
    """A weights name that is not in the registry; the message lists the known ones."""


@dataclass(frozen=True)
class WeightFile:
    name: str  # registry name, e.g. "dwpose-wholebody": the one name of this file everywhere
    group: str  # selects several files at once in `backdrop weights`: "dwpose", "sam2.1-tiny", "fvd", ...
    filename: str  # canonical file name in the weights directory
    url: str | None  # canonical URL; None where the publisher offers no direct link (fetched by hand, see `note`)
    licence: str
    sha256: str | None = None  # the publisher's full sha256, where there is one
    sha256_prefix: str | None = None  # the publisher's leading hex digits of the sha256 (torch.hub file names)
    note: str = ""  # what the file is; for entries without a URL, where to get it by hand
    used_by: str = ""  # the backdrop module that reads it


def _clip(name: str, sha256: str, filename: str, used_by: str) -> WeightFile:
    # OpenAI's CLIP download URLs embed the file's sha256 (the `clip` package verifies it the same way).
    url = f"{_CLIP}{sha256}/{filename}"
    return WeightFile(f"clip-{name}", "iqa-clip", filename, url, "MIT (OpenAI CLIP)", sha256=sha256, used_by=used_by)


_DWPOSE_USER = "curation.backends.dwpose"
_SAM2_USER = "curation.backends.sam2_masks"
_COTRACKER_USER = "curation.backends.cotracker"
_IQA_USER = "curation.quality.iqa"
_UNUSED = "no backdrop code yet (pyiqa's laion_aes)"
_HF = "https://huggingface.co/"
_SD_VARIATIONS = "lambdalabs/sd-image-variations-diffusers"
_OPENRAIL = "CreativeML OpenRAIL-M (use restrictions)"
_SD15_PARTS = (  # part, folder under the weights directory, repository, its subfolder, what it is, licence
    (
        "unet",
        "sd-image-variations-diffusers/unet",
        _SD_VARIATIONS,
        "unet/",
        "SD 1.5's UNet fine-tuned on CLIP image embeddings (the anchor's start)",
        _OPENRAIL,
    ),
    (
        "image-encoder",
        "sd-image-variations-diffusers/image_encoder",
        _SD_VARIATIONS,
        "image_encoder/",
        "CLIP ViT-L/14 image encoder with projection",
        _OPENRAIL,
    ),
    ("vae", "sd-vae-ft-mse", "stabilityai/sd-vae-ft-mse", "", "SD's VAE, decoder fine-tuned (MSE)", "MIT"),
    (
        "motion",
        "animatediff-motion-adapter-v1-5-2",
        "guoyww/animatediff-motion-adapter-v1-5-2",
        "",
        "AnimateDiff mm_sd_v15_v2 as a diffusers MotionAdapter",
        "Apache-2.0 (AnimateDiff)",
    ),
)

WEIGHTS: tuple[WeightFile, ...] = (
    WeightFile("dwpose-detector", "dwpose", "yolox_l.onnx", _DWPOSE + "yolox_l.onnx", "Apache-2.0 (YOLOX, DWPose)",
               note="YOLOX-L person detector, 640x640 input", used_by=_DWPOSE_USER),
    WeightFile("dwpose-wholebody", "dwpose", "dw-ll_ucoco_384.onnx", _DWPOSE + "dw-ll_ucoco_384.onnx",
               "Apache-2.0 (DWPose)", note="DWPose-L whole-body (133 keypoints), 288x384 input, SimCC outputs",
               used_by=_DWPOSE_USER),
    *(WeightFile(f"sam2.1-{size}", f"sam2.1-{size}", f"sam2.1_hiera_{size}.pt", f"{_SAM2}sam2.1_hiera_{size}.pt",
                 "Apache-2.0 (SAM 2)", used_by=_SAM2_USER) for size in ("tiny", "small", "base_plus", "large")),
    WeightFile("cotracker3-offline", "cotracker3-offline", "scaled_offline.pth", _COTRACKER + "scaled_offline.pth",
               "CC-BY-NC-4.0 (CoTracker): non-commercial", used_by=_COTRACKER_USER),
    WeightFile("cotracker3-online", "cotracker3-online", "scaled_online.pth", _COTRACKER + "scaled_online.pth",
               "CC-BY-NC-4.0 (CoTracker): non-commercial", used_by=_COTRACKER_USER),
    WeightFile("iqa-musiq", "iqa-musiq", "musiq_koniq_ckpt-e95806b9.pth", _PYIQA + "musiq_koniq_ckpt-e95806b9.pth",
               "pyiqa: non-commercial", sha256_prefix="e95806b9", note="pyiqa's release of MUSIQ trained on KonIQ-10k",
               used_by=_IQA_USER),
    WeightFile("iqa-laion-aes-head", "iqa-laion_aes", "sac+logos+ava1-l14-linearMSE.pth",
               _PYIQA + "sac+logos+ava1-l14-linearMSE.pth", "pyiqa: non-commercial; LAION aesthetic predictor (MIT)",
               note="MLP head on CLIP ViT-L/14 embeddings", used_by=_UNUSED),
    _clip("rn50", "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762", "RN50.pt",
          f"{_IQA_USER} (CLIP-IQA backbone)"),
    _clip("vit-l-14", "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836", "ViT-L-14.pt", _UNUSED),
    WeightFile("fvd-i3d-400", "fvd", "i3d_pretrained_400.pt",
               "https://github.com/songweige/TATS/raw/main/tats/fvd/i3d_pretrained_400.pt", "MIT (TATS)",
               note="the PyTorch port of the Kinetics-400 I3D used by TATS and cd-fvd",
               used_by="benchmark.features.i3d (FVD)"),
    WeightFile("fvd-i3d-torchscript", "fvd", "i3d_torchscript.pt",
               "https://www.dropbox.com/s/ge9e5ujwgetktms/i3d_torchscript.pt?dl=1", "see StyleGAN-V",
               note="StyleGAN-V's TorchScript I3D (protocol bd16-stylegan-v)",
               used_by="benchmark.features.i3d (FVD)"),
    WeightFile("cdfvd-videomae-v2-g", "cd-fvd", "vit_g_hybrid_pt_1200e_ssv2_ft.pth",
               "https://pjlab-gvm-data.oss-cn-shanghai.aliyuncs.com/internvideo/videomaev2/"
               "vit_g_hybrid_pt_1200e_ssv2_ft.pth", "CC-BY-NC-4.0 (VideoMAE V2): non-commercial",
               note="VideoMAE-v2 ViT-g fine-tuned on SSv2 (the cd-FVD checkpoint)",
               used_by="benchmark.features.videomae (cd-FVD)"),
    WeightFile("fid-inception", "fid", "pt_inception-2015-12-05-6726825d.pth",
               "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
               "pt_inception-2015-12-05-6726825d.pth", "Apache-2.0 (pytorch-fid)", sha256_prefix="6726825d",
               note="pytorch-fid's FID Inception weights", used_by="benchmark.features.inception (FID)"),
    WeightFile("fidvid-r3d50", "fid-vid", "resnet-50-kinetics.pth", None, "MIT (3D-ResNets-PyTorch)",
               note="Kensho Hara's ResNet-50 Kinetics-400 checkpoint (shortcut B), as used by DisCo: the Google Drive "
                    "link in the README of https://github.com/kenshohara/3D-ResNets-PyTorch",
               used_by="benchmark.features.r3d50 (FID-VID)"),
    WeightFile("lpips-alex", "lpips", "LPIPS_v0.1_alex-df73285e.pth", _PYIQA + "LPIPS_v0.1_alex-df73285e.pth",
               "pyiqa: non-commercial; LPIPS (BSD-2)", sha256_prefix="df73285e",
               note="pyiqa's LPIPS v0.1 AlexNet (whole network); the `lpips` package's weights/v0.1/alex.pth (linear "
                    "heads only) also loads, with torchvision-alexnet as the trunk (`score --lpips-trunk`)",
               used_by="benchmark.metrics.pixel (LPIPS)"),
    WeightFile("torchvision-alexnet", "lpips", "alexnet-owt-7be5be79.pth",
               "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth", "BSD-3 (torchvision)",
               sha256_prefix="7be5be79", note="the AlexNet trunk for LPIPS files that hold only the linear heads",
               used_by="benchmark.metrics.pixel (LPIPS trunk)"),
    # The sd15 reference model's parts: diffusers / transformers folders (a config beside its weights), laid out under
    # the weights directory as models/weights.py describes and loaded with local_files_only=True.
    *(WeightFile(f"sd15-{part}-{kind}", "sd15", f"{folder}/{file}", f"{_HF}{repo}/resolve/main/{sub}{file}", licence,
                 note=f"{what}: {repo}" + (f", subfolder {sub[:-1]}" if sub else ""), used_by="models.weights")
      for part, folder, repo, sub, what, licence in _SD15_PARTS
      for kind, file in (("config", "config.json"),
                         ("weights", "model.safetensors" if part == "image-encoder" else
                          "diffusion_pytorch_model.safetensors"))),
)  # fmt: skip

REGISTRY: dict[str, WeightFile] = {w.name: w for w in WEIGHTS}


def default_weights_dir() -> Path:
    """`$BACKDROP_WEIGHTS`, else ~/.cache/backdrop/weights: where every command and backend looks by default, and
    where `backdrop weights download` puts files."""
    return Path(os.environ.get("BACKDROP_WEIGHTS") or Path.home() / ".cache" / "backdrop" / "weights").expanduser()


def weights_path(filename: str, weights_dir: str | os.PathLike | None = None) -> Path:
    """The canonical location of a weights file: `weights_dir` (None: the default directory) / filename."""
    return Path(weights_dir or default_weights_dir()).expanduser() / filename


def get_entry(name: str) -> WeightFile:
    """The registry entry called `name`; any other name raises UnknownWeightsError listing the known ones."""
    entry = REGISTRY.get(name)
    if entry is None:
        raise UnknownWeightsError(f"unknown weights {name!r}; known names: {', '.join(sorted(REGISTRY))}")
    return entry


def select(names: Iterable[str]) -> list[WeightFile]:
    """Registry entries by name or group; "all" selects everything. Unknown names raise UnknownWeightsError."""
    chosen: dict[str, WeightFile] = {}
    for name in names:
        if name == "all":
            matches = list(WEIGHTS)
        else:
            matches = [w for w in WEIGHTS if name in (w.name, w.group)]
        if not matches:
            known = sorted({w.name for w in WEIGHTS} | {w.group for w in WEIGHTS})
            raise UnknownWeightsError(f"unknown weights {name!r}; known names and groups: {known}")
        chosen.update((w.name, w) for w in matches)
    return list(chosen.values())


def how_to_get(weight: WeightFile, weights_dir: str | os.PathLike | None = None) -> str:
    """How to put `weight`'s canonical file into `weights_dir` (None: the default directory), as one sentence.

    `backdrop weights check` and `download`, and every missing-weights error, say this same sentence, so the command
    they name is one that works: `download` only for entries with a URL, by hand (with the place) otherwise.
    """
    target = weights_path(weight.filename, weights_dir)
    if weight.url:
        # The exact command: `--dir` only when the directory is not the one `download` fills by default.
        # (the folder that holds the registry's relative file name, which may name a subfolder: sd15's parts)
        folder = Path(weights_dir or default_weights_dir()).expanduser()
        default = folder.resolve() == default_weights_dir().resolve()
        dir_option = "" if default else f" --dir {shlex.quote(os.fspath(folder))}"
        return f"run `backdrop weights download {weight.name}{dir_option}` (it fetches {weight.url})"
    return (
        f"{weight.name} has no direct download: get {weight.filename} by hand ({weight.note or 'see its licence'}) "
        f"and put it at {target}"
    )
