"""Model settings: frozen dataclasses read from the `model:` section of a run file (`yaml.safe_load`), unknown keys
refused with the key and the file named.

A run file has two top-level sections, `model:` (parsed here) and `train:` (parsed by models.training); this module
reads `model:` alone. Named configurations live in models/configs/{tiny,sd15}.yaml. Pretrained parts are folders in
the diffusers / transformers layout, given relative to the weights directory (`backdrop weights`'s directory, see
curation.weights.registry.default_weights_dir) or absolute; they load with `local_files_only=True`.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "CONFIGS_DIR",
    "MODEL_KINDS",
    "AnimateAnywhereConfig",
    "CodecConfig",
    "DisentangledConfig",
    "ImageEncoderConfig",
    "ModelConfig",
    "ModelConfigError",
    "MotionConfig",
    "PoseGuiderConfig",
    "SchedulerConfig",
    "UNetConfig",
    "load_model_config",
    "model_config_from_file",
    "model_config_to_dict",
    "named_model_config",
]

CONFIGS_DIR = Path(__file__).parent / "configs"


class ModelConfigError(ValueError):
    """A model configuration that cannot be used: an unknown key, a bad value; the message names key and source."""


@dataclass(frozen=True)
class CodecConfig:
    # "pixel_unshuffle" (exact, training-free), "dct" (the lowest DCT frequencies of each patch: lossy, fixed, as few
    # latent channels as a tiny UNet's first block can carry) or "vae" (diffusers AutoencoderKL)
    kind: str = "pixel_unshuffle"
    factor: int = 8  # pixel-unshuffle / dct patch size (pixel-unshuffle latents have 3 * factor**2 channels)
    luma: int = 16  # dct: luminance frequencies kept per patch
    chroma: int = 16  # dct: frequencies kept per patch of each of the two chroma channels
    # Latents are multiplied by this. Pixel-unshuffle: a power of two keeps the round trip exact. VAE: None means the
    # VAE's own `scaling_factor` (0.18215 for SD 1.5).
    scale: float | None = 1.0
    pretrained: str | None = None  # VAE folder (diffusers layout: config.json + diffusion_pytorch_model.safetensors)
    # AutoencoderKL keyword arguments for random initialisation (speed checks without weights); {}: diffusers' defaults
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from diffusers import AutoencoderKL

        known = set(inspect.signature(AutoencoderKL.__init__).parameters) - {"self"}
        _refuse_unknown(self.config, known, "codec.config")
        if self.kind not in ("pixel_unshuffle", "dct", "vae"):
            raise ModelConfigError(f"codec.kind must be 'pixel_unshuffle', 'dct' or 'vae', got {self.kind!r}")
        if self.kind == "vae" and self.pretrained is None:
            raise ModelConfigError("codec.kind 'vae' needs codec.pretrained (a local AutoencoderKL folder)")
        if self.factor < 1:
            raise ModelConfigError(f"codec.factor must be at least 1, got {self.factor}")
        if self.kind in ("pixel_unshuffle", "dct") and not (self.scale and self.scale > 0):
            raise ModelConfigError(f"codec.scale must be positive for {self.kind}, got {self.scale}")
        if self.kind == "dct" and not (1 <= self.luma <= self.factor**2 and 0 <= self.chroma <= self.factor**2):
            raise ModelConfigError(
                f"codec.luma must be in 1..{self.factor**2} and codec.chroma in 0..{self.factor**2} for a "
                f"{self.factor}x{self.factor} patch, got {self.luma} and {self.chroma}"
            )


@dataclass(frozen=True)
class UNetConfig:
    # Folder of a UNet2DConditionModel (e.g. <sd>/unet); None: random initialisation from `config`.
    pretrained: str | None = None
    # UNet2DConditionModel keyword arguments (its architecture). Shared by the ReferenceNet and the denoiser; with a
    # pretrained folder, these must agree with the folder's config where both name a key.
    config: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from diffusers import UNet2DConditionModel

        known = set(inspect.signature(UNet2DConditionModel.__init__).parameters) - {"self"}
        _refuse_unknown(self.config, known, "unet.config")


@dataclass(frozen=True)
class MotionConfig:
    # Folder of a diffusers MotionAdapter (e.g. the conversion of AnimateDiff mm_sd_v15_v2); None: random
    # initialisation with zero output projections, so the temporal layers start as identities.
    pretrained: str | None = None
    num_attention_heads: int = 8
    max_seq_length: int = 32  # longest window the temporal positional embedding covers
    use_mid_block: bool = True
    transformer_layers_per_block: int = 1

    def __post_init__(self) -> None:
        if self.max_seq_length < 1 or self.num_attention_heads < 1 or self.transformer_layers_per_block < 1:
            raise ModelConfigError("motion: max_seq_length, num_attention_heads and layers must be positive")


@dataclass(frozen=True)
class PoseGuiderConfig:
    # ControlNet conditioning-embedding channels; len - 1 stride-2 convolutions must reach the latent resolution.
    block_out_channels: tuple[int, ...] = (16, 32, 96, 256)
    conditioning_channels: int = 3


@dataclass(frozen=True)
class ImageEncoderConfig:
    # Folder of a transformers CLIPVisionModelWithProjection; None: random initialisation from `config`.
    pretrained: str | None = None
    config: dict[str, Any] = field(default_factory=dict)  # CLIPVisionConfig keyword arguments

    def __post_init__(self) -> None:
        from transformers import CLIPVisionConfig

        known = set(inspect.signature(CLIPVisionConfig.__init__).parameters) - {"self"}
        _refuse_unknown(self.config, known, "image_encoder.config")


@dataclass(frozen=True)
class SchedulerConfig:
    num_train_timesteps: int = 1000
    beta_start: float = 0.00085
    beta_end: float = 0.012
    beta_schedule: str = "scaled_linear"
    steps_offset: int = 1
    # or "epsilon", or "sample" (x0: the denoiser outputs the clean latents; a small model trained from scratch then
    # ends its sampling on its own image, where a v- or epsilon-model leaves the noise it cannot yet predict)
    prediction_type: str = "v_prediction"
    rescale_betas_zero_snr: bool = True  # zero terminal SNR (the anchor's enable_zero_snr)
    timestep_spacing: str = "trailing"  # trailing spacing starts sampling at the zero-SNR step
    noise_offset: float = 0.05  # per-(sample, channel) offset added to the training noise
    snr_gamma: float | None = 5.0  # min-SNR loss weighting; None or 0: plain MSE

    def __post_init__(self) -> None:
        if self.prediction_type not in ("v_prediction", "epsilon", "sample"):
            raise ModelConfigError(
                f"scheduler.prediction_type must be v_prediction, epsilon or sample: {self.prediction_type}"
            )
        if self.timestep_spacing not in ("linspace", "leading", "trailing"):
            raise ModelConfigError(f"scheduler.timestep_spacing unknown: {self.timestep_spacing!r}")
        if self.noise_offset < 0:
            raise ModelConfigError(f"scheduler.noise_offset must be >= 0, got {self.noise_offset}")


MODEL_KINDS = ("animate_anyone", "disentangled", "animate_anywhere")


@dataclass(frozen=True)
class DisentangledConfig:
    """The disentangled model's switches (models.disentangled; arXiv 2405.16393). The ablations of the issue are
    `inverse_mask`, `global_feature` and `last_frame_concat` set to false; `warped_reference` is backdrop's variant."""

    tracks_min: int = 5  # K, the tracks sampled per clip, is drawn from [tracks_min, tracks_max]
    tracks_max: int = 50
    inverse_mask: bool = True  # tracks kept by the shard's track_mask and the map zeroed on the person
    track_sigma: float = 1.5  # radius of a drawn track, model pixels
    warped_reference: bool = False  # backdrop's variant: + the reference warped by the tracks' homography
    global_feature: bool = True  # a CLIP token of the first reference beside the clip's own, at every clip
    last_frame_concat: bool = True  # the previous clip's last frame concatenated with the noisy latents
    handover_drop: float = 0.3  # video stage: share of samples trained without a handed-over frame (a first clip)
    temporal_motion_block: bool = True
    track_guider_channels: tuple[int, ...] = (16, 32, 96, 256)  # like the PoseGuider's

    def __post_init__(self) -> None:
        if not 1 <= self.tracks_min <= self.tracks_max:
            raise ModelConfigError(f"disentangled: need 1 <= tracks_min <= tracks_max, got {self.tracks_min}, "
                                   f"{self.tracks_max}")  # fmt: skip
        if not 0 <= self.handover_drop <= 1:
            raise ModelConfigError(f"disentangled.handover_drop must be in [0, 1], got {self.handover_drop}")


def rope_rank_problem(rank: int) -> str | None:
    """Why an attention of width `rank` cannot take a 3D rotary position code, or None: diffusers'
    get_3d_rotary_pos_embed splits the width into a quarter for time and three eighths for each axis, each even."""
    if rank % 16:
        return (
            "a 3D rotary position code needs a rank that is a multiple of 16 (a quarter for time, three eighths per "
            f"axis, each even); got rank {rank}"
        )
    return None


@dataclass(frozen=True)
class AnimateAnywhereConfig:
    """The AnimateAnywhere-style model's switches (models.animate_anywhere; arXiv 2504.19834). Ablations: `bml`
    false (the Background Motion Learner off), `epipolar_loss` false."""

    bml: bool = True
    rank: int = 16  # the BML's low-rank 3D attention width
    max_tokens: int = 256  # per frame: layers with more tokens get the pose term but no 3D attention branch
    # A 3D rotary position code on the branch's queries and keys (CogVideoX's 3D attention has one); off in the tiny
    # file, whose committed reports were trained without it (models/components/background_motion.py says why on).
    rope: bool = False
    epipolar_loss: bool = True
    epipolar_weight: float = 0.1  # weight of sum(Omega * A) beside the diffusion loss
    delta: float = 0.05  # Omega = (1 - M_epipolar) AND (A < delta)
    tolerance: float = 0.5  # token widths from the epipolar line still "on" it

    def __post_init__(self) -> None:
        if self.rank < 1 or self.max_tokens < 1:
            raise ModelConfigError("animate_anywhere: rank and max_tokens must be positive")
        if self.epipolar_weight < 0 or not 0 < self.delta <= 1 or self.tolerance <= 0:
            raise ModelConfigError("animate_anywhere: epipolar_weight >= 0, delta in (0, 1], tolerance > 0")
        if self.rope and (problem := rope_rank_problem(self.rank)):
            raise ModelConfigError(f"animate_anywhere.rope: {problem}")
        if self.epipolar_loss and not self.bml:
            raise ModelConfigError("animate_anywhere: the epipolar loss constrains the BML's attention: needs bml")


@dataclass(frozen=True)
class ModelConfig:
    name: str
    resolution: tuple[int, int]  # (height, width) of frames, poses and reference, in pixels
    frames: int  # video-stage clip length
    codec: CodecConfig = field(default_factory=CodecConfig)
    unet: UNetConfig = field(default_factory=UNetConfig)
    motion: MotionConfig = field(default_factory=MotionConfig)
    pose_guider: PoseGuiderConfig = field(default_factory=PoseGuiderConfig)
    image_encoder: ImageEncoderConfig = field(default_factory=ImageEncoderConfig)
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    reference_drop: float = 0.1  # fraction of training samples without reference and image embedding (for guidance)
    # backdrop's CPU-scale setting, not the anchor's: the reference's latents also concatenated with the noisy latents
    # on every frame, a direct path to the reference; a randomly initialised reference attention does not learn to
    # copy at CPU budgets (reports/reference_copy_video.md). Baseline and AnimateAnywhere kinds only.
    reference_concat: bool = False
    context_frames: int = 24  # long videos: temporal window length
    context_overlap: int = 4  # frames shared by neighbouring windows (blended)
    seed: int = 0  # seed of the random initialisation of every part not loaded from weights
    kind: str = "animate_anyone"  # which model (MODEL_KINDS); models.registry builds it
    disentangled: DisentangledConfig = field(default_factory=DisentangledConfig)  # read when kind is disentangled
    animate_anywhere: AnimateAnywhereConfig = field(default_factory=AnimateAnywhereConfig)  # ... animate_anywhere

    def __post_init__(self) -> None:
        if self.kind not in MODEL_KINDS:
            raise ModelConfigError(f"kind must be one of {MODEL_KINDS}, got {self.kind!r}")
        height, width = self.resolution
        if height % 8 or width % 8 or height < 8 or width < 8:
            raise ModelConfigError(f"resolution must be positive multiples of 8, got {self.resolution}")
        if self.frames < 1:
            raise ModelConfigError(f"frames must be at least 1, got {self.frames}")
        if not 0 <= self.reference_drop < 1:
            raise ModelConfigError(f"reference_drop must be in [0, 1), got {self.reference_drop}")
        if self.reference_concat and self.kind == "disentangled":
            raise ModelConfigError(
                "reference_concat is for the animate_anyone and animate_anywhere kinds; the disentangled model's "
                "input takes the handed-over frame and the warped reference"
            )
        if not 0 <= self.context_overlap < self.context_frames:
            raise ModelConfigError(
                f"need 0 <= context_overlap < context_frames, got {self.context_overlap}, {self.context_frames}"
            )
        if self.context_frames > self.motion.max_seq_length:
            raise ModelConfigError(
                f"context_frames {self.context_frames} exceeds motion.max_seq_length {self.motion.max_seq_length}"
            )


_SECTIONS: dict[str, type] = {
    "codec": CodecConfig,
    "unet": UNetConfig,
    "motion": MotionConfig,
    "pose_guider": PoseGuiderConfig,
    "image_encoder": ImageEncoderConfig,
    "scheduler": SchedulerConfig,
    "disentangled": DisentangledConfig,
    "animate_anywhere": AnimateAnywhereConfig,
}


def _refuse_unknown(values: dict, known: set[str], where: str) -> None:
    unknown = sorted(set(values) - known)
    if unknown:
        raise ModelConfigError(f"{where}: unknown keys {unknown}; known: {sorted(known)}")


def _section(cls: type, name: str, values: Any) -> Any:
    if not isinstance(values, dict):
        raise ModelConfigError(f"{name} must be a mapping, got {type(values).__name__}")
    _refuse_unknown(values, {f.name for f in dataclasses.fields(cls)}, name)
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return cls(**values)


def load_model_config(data: dict[str, Any], source: str = "<dict>") -> ModelConfig:
    """A ModelConfig from a whole run file's data (its `model:` section is read, other sections are left to their
    owners) or from the model section itself. Unknown keys raise ModelConfigError naming the key and `source`."""
    if not isinstance(data, dict):
        raise ModelConfigError(f"{source}: a model config must be a mapping, got {type(data).__name__}")
    model = data["model"] if "model" in data else data
    if not isinstance(model, dict):
        raise ModelConfigError(f"{source}: the model section must be a mapping")
    known = {f.name for f in dataclasses.fields(ModelConfig)}
    try:
        _refuse_unknown(model, known, "model")
        for required in ("name", "resolution", "frames"):
            if required not in model:
                raise ModelConfigError(f"model: missing key {required!r}")
        values = dict(model)
        for name, cls in _SECTIONS.items():
            if name in values:
                values[name] = _section(cls, name, values[name] or {})
        values["resolution"] = tuple(int(v) for v in values["resolution"])
        if len(values["resolution"]) != 2:
            raise ModelConfigError(f"model: resolution must be [height, width], got {model['resolution']}")
        return ModelConfig(**values)
    except ModelConfigError as error:
        raise ModelConfigError(f"{source}: {error}") from None


def model_config_from_file(path: str | os.PathLike) -> ModelConfig:
    """The `model:` section of a run file (or a file holding only the model section)."""
    path = Path(path)
    return load_model_config(yaml.safe_load(path.read_text()) or {}, source=str(path))


def named_model_config(name: str) -> ModelConfig:
    """A named configuration shipped in models/configs (`tiny`, `sd15`, `disentangled_tiny`, ...)."""
    path = CONFIGS_DIR / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in CONFIGS_DIR.glob("*.yaml"))
        raise ModelConfigError(f"unknown model config {name!r}; known: {known}")
    return model_config_from_file(path)


def model_config_to_dict(config: ModelConfig) -> dict[str, Any]:
    """Plain data (lists, not tuples) that `load_model_config` reads back to an equal config; for checkpoints."""

    def plain(value: Any) -> Any:
        if isinstance(value, tuple | list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(dataclasses.asdict(config))
