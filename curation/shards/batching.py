"""Batches of decoded shard samples (`curation.shards.reader`): clips of one size, persons and tracked points of
different counts.

Clips in a batch must share their frame count and size (a batch is one tensor); persons (P) and tracked points (N)
vary from clip to clip, so they are brought to one count per batch:

- padded (`persons=None`, `tracks=None`, the default): to the batch's largest count, with zeros (a padded person
  has confidence 0, which every pose consumer treats as absent; a padded point is neither visible nor kept);
- fixed (`persons=K`, `tracks=K`): the same count for every batch. Persons are sorted by area in a shard, so the K
  largest are kept; tracked points are a random subset (drawn from `rng`) kept in their order. Fewer are padded.

Either way `person_mask` [B, P] and `point_mask` [B, N] say which entries are real, and `person_count` /
`point_count` [B] how many (the first ones: padding always comes last).

Batch keys: `__key__`, `__url__`, `json` (lists), `frames` uint8 [B, T, H, W, 3], `fgmask` bool [B, T, H, W],
`camera` [B, T, 3, 3], `pose` [B, T, P, 133, 3], `tracks` [B, T, N, 2], `visible` and `track_mask` bool [B, T, N],
plus the masks and counts above.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

LISTED = ("__key__", "__url__", "json")
PER_FRAME = ("frames", "fgmask", "camera")
PER_POINT = ("tracks", "visible", "track_mask")


def _check_count(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{name} must be None (pad to the batch's largest) or an integer >= 1, got {value!r}")


def _check_frames(samples: Sequence[dict[str, Any]]) -> None:
    """One clip shape per batch: say which clips differ, by key, rather than fail inside `torch.stack`."""
    shapes = {s["__key__"]: tuple(s["frames"].shape) for s in samples}
    if len(set(shapes.values())) > 1:
        listed = ", ".join(f"{key} {list(shape)}" for key, shape in shapes.items())
        raise ValueError(
            f"clips of different frame counts or sizes in one batch ({listed}): batch clips of one size, "
            "or resize them first (models.data.conditioning)"
        )


def _rng(samples: Sequence[dict[str, Any]], rng: np.random.Generator | int | None) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:  # the same subsets for the same clips on every run, whichever worker collates them
        rng = zlib.crc32(" ".join(s["__key__"] for s in samples).encode())
    return np.random.default_rng(rng)


def _fit(tensor: torch.Tensor, dim: int, index: torch.Tensor, count: int) -> torch.Tensor:
    """The entries `index` along `dim`, then zeros (False) up to `count`."""
    kept = tensor.index_select(dim, index)
    shape = list(kept.shape)
    shape[dim] = count - kept.shape[dim]
    return torch.cat([kept, kept.new_zeros(shape)], dim=dim)


def collate_clips(
    samples: Sequence[dict[str, Any]],
    *,
    persons: int | None = None,
    tracks: int | None = None,
    rng: np.random.Generator | int | None = None,
) -> dict[str, Any]:
    """One batch of decoded samples; persons and tracked points padded (None) or brought to a fixed count.

    `rng`: the generator that picks tracked-point subsets (an int seeds one; None: seeded from the batch's keys).
    """
    if not samples:
        raise ValueError("cannot collate an empty list of samples")
    _check_count("persons", persons)
    _check_count("tracks", tracks)
    _check_frames(samples)
    generator = _rng(samples, rng)
    person_total = persons if persons is not None else max(s["pose"].shape[1] for s in samples)
    point_total = tracks if tracks is not None else max(s["tracks"].shape[1] for s in samples)
    batch: dict[str, Any] = {name: [s.get(name) for s in samples] for name in LISTED}
    for name in PER_FRAME:
        batch[name] = torch.stack([s[name] for s in samples])
    pose, person_count = [], []
    per_point: dict[str, list[torch.Tensor]] = {name: [] for name in PER_POINT}
    point_count = []
    for sample in samples:
        have = sample["pose"].shape[1]
        keep = torch.arange(min(have, person_total))  # the largest persons: shards sort them by area
        pose.append(_fit(sample["pose"], 1, keep, person_total))
        person_count.append(len(keep))
        have = sample["tracks"].shape[1]
        if have > point_total:
            keep = torch.from_numpy(np.sort(generator.choice(have, point_total, replace=False)))
        else:
            keep = torch.arange(have)
        for name in PER_POINT:
            per_point[name].append(_fit(sample[name], 1, keep, point_total))
        point_count.append(len(keep))
    batch["pose"] = torch.stack(pose)
    for name in PER_POINT:
        batch[name] = torch.stack(per_point[name])
    batch["person_count"] = torch.tensor(person_count, dtype=torch.int64)
    batch["point_count"] = torch.tensor(point_count, dtype=torch.int64)
    batch["person_mask"] = torch.arange(person_total) < batch["person_count"][:, None]
    batch["point_mask"] = torch.arange(point_total) < batch["point_count"][:, None]
    return batch
