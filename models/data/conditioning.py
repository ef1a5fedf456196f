"""Training examples for pose-driven reference models from decoded shard samples (`curation.shards.reader`).

One example per clip, as the AnimateAnyone anchor builds them:
- `frames` float32 [F, 3, H, W] in [-1, 1]: the target frames. Video stage: F consecutive frames (every `stride`-th)
  from a random start. Image stage (F = 1): one random frame, at least `min_gap` frames from the reference where
  the clip allows it (the anchor keeps target and reference apart so the model cannot copy).
- `pose_images` float32 [F, 3, H, W] in [0, 1]: OpenPose-style skeletons (`curation.person.pose_render`) of the
  shard's 133-point pose of the same frames, drawn at the model's resolution after mapping the keypoints into the
  resized, cropped frame, so a skeleton lies on its person pixel for pixel (only the F frames used are rendered).
- `reference` float32 [3, H, W] in [-1, 1]: a frame of the same clip, drawn at random from the whole clip.
- `key` (the shard key), `frame_index` int64 [F] and `reference_index`: which clip frames were taken.

Geometry: resize to cover the model's (height, width), then crop the centre (no letterbox bars: a bar is an
edge the model would learn to paint, and pose and frames stay aligned either way). Frames shrink with area
averaging and grow bilinearly; keypoints follow the same pixel-centre mapping as the resize.

Randomness comes from explicit generators: `clip_example(..., rng=)`; in a shard pipeline (`training_batches`)
from the dataset's per-stream seeds (seed, epoch, rank, worker), so a run is reproducible; map-style
(`ConditionedClips`) from (seed, epoch, index).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import torch
from webdataset.utils import PipelineStage

from curation.person.pose_render import render_clip
from curation.shards.reader import Handler, ShardPipeline, reraise
from curation.shards.streams import StreamSeeds, check_nonnegative
from models.data.background import (
    BackgroundInputs,
    epipolar_geometry,
    render_track_maps,
    sample_tracks,
    warped_references,
)

BATCH_TENSORS = ("frames", "pose_images", "reference", "frame_index")
# Present only for models that read the background (models.data.background): stacked when the examples have them.
BACKGROUND_TENSORS = ("track_maps", "epipolar_matrices", "epipolar_kinds")


@dataclass(frozen=True)
class CoverCrop:
    """Resize a (height, width) clip to cover `size` = (height, width), then keep the centre."""

    source: tuple[int, int]
    size: tuple[int, int]

    @property
    def resized(self) -> tuple[int, int]:
        (h, w), (out_h, out_w) = self.source, self.size
        scale = max(out_h / h, out_w / w)
        return max(out_h, round(h * scale)), max(out_w, round(w * scale))

    @property
    def offset(self) -> tuple[int, int]:
        """(top, left) of the crop in the resized frame."""
        (rh, rw), (out_h, out_w) = self.resized, self.size
        return (rh - out_h) // 2, (rw - out_w) // 2

    def frames(self, frames: np.ndarray) -> np.ndarray:
        """uint8 [K, H, W, 3] -> [K, height, width, 3]."""
        (rh, rw), (top, left), (out_h, out_w) = self.resized, self.offset, self.size
        shrink = rh * rw < self.source[0] * self.source[1]
        interpolation = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
        out = [cv2.resize(frame, (rw, rh), interpolation=interpolation) for frame in frames]
        return np.stack(out)[:, top : top + out_h, left : left + out_w]

    def points(self, xy: np.ndarray) -> np.ndarray:
        """Pixel positions [..., 2] (x, y) in the clip -> in the cropped frame (pixel centres map as in the resize)."""
        (h, w), (rh, rw), (top, left) = self.source, self.resized, self.offset
        scale = np.array([rw / w, rh / h], np.float32)
        return (xy + 0.5) * scale - 0.5 - np.array([left, top], np.float32)


def _check_size(name: str, value: Sequence[int]) -> tuple[int, int]:
    if len(value) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value):
        raise ValueError(f"{name} must be (height, width), two integers >= 1, got {value!r}")
    return int(value[0]), int(value[1])


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")


def sample_indices(
    length: int, frames: int, rng: np.random.Generator, *, stride: int = 1, min_gap: int = 1, key: str = "clip"
) -> tuple[np.ndarray, int]:
    """(target frame indices [frames], reference index) in a clip of `length` frames (see the module docstring)."""
    _check_positive("frames", frames)
    _check_positive("stride", stride)
    check_nonnegative("min_gap", min_gap)
    span = (frames - 1) * stride + 1
    if length < span:
        raise ValueError(f"{key}: {length} frames, fewer than {frames} frames at stride {stride} need ({span})")
    reference = int(rng.integers(length))
    if frames > 1:
        start = int(rng.integers(length - span + 1))
        return np.arange(start, start + span, stride), reference
    candidates = [t for t in range(length) if abs(t - reference) >= max(min_gap, 1)]
    if not candidates:  # a short clip: any other frame, else the only one
        candidates = [t for t in range(length) if t != reference] or [reference]
    return np.array([candidates[int(rng.integers(len(candidates)))]]), reference


def _to_tensor(images: np.ndarray, low: float) -> torch.Tensor:
    """uint8 [..., H, W, 3] -> float32 [..., 3, H, W] in [low, 1]."""
    x = torch.from_numpy(np.ascontiguousarray(images)).movedim(-1, -3).float() / 255.0
    return x * (1.0 - low) + low


def _clip_arrays(sample: dict[str, Any]) -> tuple[str, np.ndarray, np.ndarray]:
    """A decoded sample's key, frames [T, H, W, 3] and pose [T, P, 133, 3] as arrays, checked against each other."""
    clip = sample["frames"].numpy() if isinstance(sample["frames"], torch.Tensor) else np.asarray(sample["frames"])
    pose = sample["pose"].numpy() if isinstance(sample["pose"], torch.Tensor) else np.asarray(sample["pose"])
    key = str(sample.get("__key__"))
    if clip.ndim != 4 or clip.shape[-1] != 3 or pose.shape[0] != clip.shape[0]:
        raise ValueError(f"{key}: frames {clip.shape} and pose {pose.shape} do not match")
    return key, clip, pose


def _skeletons(pose: np.ndarray, crop: CoverCrop, size: tuple[int, int]) -> np.ndarray:
    """Skeleton images [T, h, w, 3] of pose frames [T, P, 133, 3], mapped as `crop` maps the frames."""
    points = pose.copy()
    points[..., :2] = crop.points(points[..., :2])
    return render_clip(points, (size[1], size[0]))


def _array(value: Any) -> np.ndarray:
    return value.numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def background_conditions(
    sample: dict[str, Any],
    crop: CoverCrop,
    indices: np.ndarray,
    reference: int,
    reference_image: np.ndarray,
    inputs: BackgroundInputs,
    rng: np.random.Generator,
) -> dict[str, torch.Tensor]:
    """The background inputs (models.data.background) of frames `indices` against frame `reference` of a decoded
    sample, at the crop's size: `track_maps` [F, C, H, W], `epipolar_matrices` [F, F, 3, 3], `epipolar_kinds`
    [F, F], as `inputs` asks."""
    key = str(sample.get("__key__"))
    for name in ("tracks", "visible", "track_mask", "fgmask"):
        if name not in sample:
            raise ValueError(f"{key}: the model reads background tracks, but the sample has no {name!r}")
    height, width = crop.size
    positions = crop.points(_array(sample["tracks"]).astype(np.float32))
    inside = (positions[..., 0] >= 0) & (positions[..., 0] <= width - 1)
    inside &= (positions[..., 1] >= 0) & (positions[..., 1] <= height - 1)
    background = _array(sample["track_mask"]).astype(bool) & inside
    out: dict[str, torch.Tensor] = {}
    if inputs.track_maps:
        kept = background if inputs.inverse_mask else _array(sample["visible"]).astype(bool) & inside
        chosen = sample_tracks(kept, reference, (inputs.tracks_min, inputs.tracks_max), rng)
        taken = np.append(indices, reference)
        person = _array(sample["fgmask"])[taken].astype(np.uint8) * 255  # the reader unpacks it: bool [T, H, W]
        person = crop.frames(person) > 127
        where, shown = positions[indices][:, chosen], kept[indices][:, chosen]
        maps = render_track_maps(
            where, shown, positions[reference, chosen], crop.size, inputs.track_sigma,
            person[:-1] if inputs.inverse_mask else None,
        )  # fmt: skip
        if inputs.warped_reference:
            warped = warped_references(
                reference_image, person[-1], where, shown, positions[reference, chosen], kept[reference, chosen]
            )
            maps = np.concatenate([maps, warped], axis=1)
        out["track_maps"] = torch.from_numpy(maps)
    if inputs.epipolar:
        matrices, kinds = epipolar_geometry(positions[indices], background[indices], inputs)
        out["epipolar_matrices"] = torch.from_numpy(matrices)
        out["epipolar_kinds"] = torch.from_numpy(kinds)
    return out


def clip_example(
    sample: dict[str, Any],
    *,
    resolution: Sequence[int],
    frames: int,
    rng: np.random.Generator,
    stride: int = 1,
    min_gap: int = 1,
    background: BackgroundInputs | None = None,
) -> dict[str, Any]:
    """One training example (see the module docstring) of a decoded shard sample, at `resolution` = (h, w);
    `background` adds the inputs of models.data.background."""
    size = _check_size("resolution", resolution)
    key, clip, pose = _clip_arrays(sample)
    indices, reference = sample_indices(clip.shape[0], frames, rng, stride=stride, min_gap=min_gap, key=key)
    crop = CoverCrop(clip.shape[1:3], size)
    taken = crop.frames(clip[np.append(indices, reference)])
    skeletons = _skeletons(pose[indices], crop, size)
    example = {
        "key": key,
        "frames": _to_tensor(taken[:-1], -1.0),
        "pose_images": _to_tensor(skeletons, 0.0),
        "reference": _to_tensor(taken[-1], -1.0),
        "frame_index": torch.from_numpy(indices.astype(np.int64)),
        "reference_index": reference,
    }
    if background is not None and background.any:
        example.update(background_conditions(sample, crop, indices, reference, taken[-1], background, rng))
    return example


def collate_examples(examples: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The model's batch: `frames`/`pose_images` [B, F, 3, H, W], `reference` [B, 3, H, W], `key` list[str],
    `frame_index` [B, F], `reference_index` [B]."""
    if not examples:
        raise ValueError("cannot collate an empty list of examples")
    shapes = {e["key"]: tuple(e["frames"].shape) for e in examples}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"examples of different shapes in one batch: {shapes}")
    names = BATCH_TENSORS + tuple(name for name in BACKGROUND_TENSORS if name in examples[0])
    batch: dict[str, Any] = {name: torch.stack([e[name] for e in examples]) for name in names}
    batch["key"] = [e["key"] for e in examples]
    batch["reference_index"] = torch.tensor([e["reference_index"] for e in examples], dtype=torch.int64)
    return batch


class ConditionStage(PipelineStage):
    """A WebDataset stage: decoded samples -> training examples, drawing from the stream's own generator."""

    def __init__(
        self,
        stream: StreamSeeds,
        *,
        resolution: Sequence[int],
        frames: int,
        stride: int = 1,
        min_gap: int = 1,
        handler: Handler = reraise,
        background: BackgroundInputs | None = None,
    ) -> None:
        self.stream, self.resolution, self.handler = stream, _check_size("resolution", resolution), handler
        _check_positive("frames", frames)
        _check_positive("stride", stride)
        self.frames, self.stride, self.min_gap, self.background = frames, stride, min_gap, background

    def run(self, source: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        rng = self.stream.numpy_random("conditioning")  # per (seed, epoch, rank, worker), at each epoch's start
        for sample in source:
            try:
                yield clip_example(
                    sample, resolution=self.resolution, frames=self.frames, rng=rng, stride=self.stride,
                    min_gap=self.min_gap, background=self.background,
                )  # fmt: skip
            except Exception as error:  # the handler decides, as for decoding errors
                if not self.handler(error):
                    break


def training_batches(
    dataset: ShardPipeline,
    resolution: Sequence[int],
    frames: int,
    batch_size: int,
    *,
    stride: int = 1,
    min_gap: int = 1,
    handler: Handler = reraise,
    background: BackgroundInputs | None = None,
) -> ShardPipeline:
    """The model's batches (`collate_examples`) from a shard pipeline (`shard_dataset(...)`), full batches only.

    Its randomness follows the dataset's seeds (seed, epoch, rank, worker): `dataset.set_epoch` moves it on too.
    Iterate it directly or in a `DataLoader(..., batch_size=None, num_workers=...)`.
    """
    stage = ConditionStage(
        dataset.stream, resolution=resolution, frames=frames, stride=stride, min_gap=min_gap, handler=handler,
        background=background,
    )  # fmt: skip
    return dataset.compose(stage).batched(batch_size, collation_fn=collate_examples, partial=False)


class ConditionedClips(torch.utils.data.Dataset):
    """Map-style examples over a map-style dataset of decoded samples (`curation.shards.indexed.indexed_dataset`);
    item i draws from a generator seeded by (seed, epoch, i). Batch with `collate_fn=collate_examples`."""

    def __init__(
        self,
        clips: torch.utils.data.Dataset,
        *,
        resolution: Sequence[int],
        frames: int,
        seed: int = 0,
        epoch: int = 0,
        stride: int = 1,
        min_gap: int = 1,
    ) -> None:
        self.clips, self.resolution = clips, _check_size("resolution", resolution)
        self.frames, self.stride, self.min_gap = frames, stride, min_gap
        self.seeds = StreamSeeds(seed=seed, epoch=epoch)

    def set_epoch(self, epoch: int) -> None:
        self.seeds.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.clips)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"example {index} of {len(self)}")
        index %= len(self)
        rng = np.random.default_rng(np.random.SeedSequence(self.seeds.seed, spawn_key=(self.seeds.epoch, index)))
        return clip_example(
            self.clips[index], resolution=self.resolution, frames=self.frames, rng=rng, stride=self.stride,
            min_gap=self.min_gap,
        )  # fmt: skip


def clip_conditions(
    sample: dict[str, Any],
    *,
    resolution: Sequence[int],
    reference_index: int = 0,
    background: BackgroundInputs | None = None,
    rng: np.random.Generator | None = None,
) -> dict[str, Any]:
    """What generation needs of a whole clip, at `resolution` = (h, w): the ground-truth frames uint8 [T, H, W, 3]
    (to score against), every frame's skeleton [T, 3, H, W] in [0, 1], and the reference frame uint8 [H, W, 3]
    (the clip's frame `reference_index`, its first by default: what a user of the model would give); with
    `background`, every frame's `track_maps` too (the driving clip's tracks, sampled with `rng`)."""
    size = _check_size("resolution", resolution)
    key, clip, pose = _clip_arrays(sample)
    if not 0 <= reference_index < clip.shape[0]:
        raise ValueError(f"{key}: reference frame {reference_index} is outside the clip's {clip.shape[0]} frames")
    crop = CoverCrop(clip.shape[1:3], size)
    frames = crop.frames(clip)
    skeletons = _skeletons(pose, crop, size)
    conditions = {
        "key": key,
        "frames": frames,
        "pose_images": _to_tensor(skeletons, 0.0),
        "reference": frames[reference_index],
    }
    if background is not None and background.track_maps:
        rng = rng if rng is not None else np.random.default_rng(0)
        maps_only = dataclasses.replace(background, epipolar=False)
        indices = np.arange(clip.shape[0])
        conditions.update(
            background_conditions(sample, crop, indices, reference_index, frames[reference_index], maps_only, rng)
        )
    return conditions
