"""Batches of clips whose person and tracked-point counts differ: padded with masks, or brought to fixed counts;
clips of different sizes refused by key; `shard_dataset(...).batched(n)` works with the default collate."""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from curation.shards.batching import collate_clips
from curation.shards.reader import shard_dataset


def _clip(key: str, persons: int, points: int, *, frames: int = 3, size: tuple[int, int] = (8, 10)) -> dict:
    """A decoded sample with recognisable values: pose and tracks hold (person or point index + 1)."""
    h, w = size
    pose = torch.zeros(frames, persons, 133, 3)
    pose[..., 2] = 1.0
    pose[..., 0] = torch.arange(1, persons + 1, dtype=torch.float32)[None, :, None]
    tracks = torch.arange(1, points + 1, dtype=torch.float32)[None, :, None].expand(frames, points, 2).clone()
    return {
        "__key__": key,
        "__url__": "x.tar",
        "json": {"key": key},
        "frames": torch.full((frames, h, w, 3), persons, dtype=torch.uint8),
        "fgmask": torch.ones(frames, h, w, dtype=torch.bool),
        "camera": torch.eye(3).expand(frames, 3, 3).clone(),
        "pose": pose,
        "tracks": tracks,
        "visible": torch.ones(frames, points, dtype=torch.bool),
        "track_mask": torch.ones(frames, points, dtype=torch.bool),
    }


def test_padding_keeps_every_person_and_point_with_masks() -> None:
    clips = [_clip("a", 1, 5), _clip("b", 3, 2), _clip("c", 2, 7)]
    batch = collate_clips(clips)
    assert batch["__key__"] == ["a", "b", "c"] and batch["json"][1] == {"key": "b"}
    assert batch["frames"].shape == (3, 3, 8, 10, 3) and batch["frames"].dtype == torch.uint8
    assert batch["pose"].shape == (3, 3, 3, 133, 3) and batch["tracks"].shape == (3, 3, 7, 2)
    assert batch["person_count"].tolist() == [1, 3, 2] and batch["point_count"].tolist() == [5, 2, 7]
    assert batch["person_mask"].tolist() == [[True, False, False], [True, True, True], [True, True, False]]
    for b, clip in enumerate(clips):
        p, n = clip["pose"].shape[1], clip["tracks"].shape[1]
        assert torch.equal(batch["pose"][b, :, :p], clip["pose"])
        assert not batch["pose"][b, :, p:].any()  # padding: confidence 0, an absent person
        assert torch.equal(batch["tracks"][b, :, :n], clip["tracks"])
        assert not batch["visible"][b, :, n:].any() and not batch["track_mask"][b, :, n:].any()
        assert batch["point_mask"][b].tolist() == [True] * n + [False] * (7 - n)


def test_fixed_counts_keep_the_largest_persons_and_a_seeded_subset_of_points() -> None:
    clips = [_clip("a", 1, 5), _clip("b", 3, 20)]
    batch = collate_clips(clips, persons=2, tracks=6, rng=np.random.default_rng(0))
    assert batch["pose"].shape == (2, 3, 2, 133, 3) and batch["tracks"].shape == (2, 3, 6, 2)
    assert batch["person_count"].tolist() == [1, 2] and batch["point_count"].tolist() == [5, 6]
    assert batch["pose"][1, 0, :, 0, 0].tolist() == [1.0, 2.0]  # persons come sorted by area: the first ones
    picked = batch["tracks"][1, 0, :, 0]
    assert len(set(picked.tolist())) == 6 and picked.tolist() == sorted(picked.tolist())  # distinct, in order
    assert set(picked.tolist()) <= set(range(1, 21)) and torch.equal(batch["tracks"][0, :, :5], clips[0]["tracks"])
    again = collate_clips(clips, persons=2, tracks=6, rng=np.random.default_rng(0))
    assert torch.equal(again["tracks"], batch["tracks"])
    other = [collate_clips(clips, persons=2, tracks=6, rng=seed)["tracks"] for seed in range(1, 5)]
    assert any(not torch.equal(t, batch["tracks"]) for t in other)
    assert torch.equal(collate_clips(clips, tracks=6)["tracks"], collate_clips(clips, tracks=6)["tracks"])


def test_bad_batches_are_refused_with_the_keys() -> None:
    with pytest.raises(ValueError, match=r"different frame counts or sizes.*a \[3, 8, 10, 3\].*b \[3, 6, 10, 3\]"):
        collate_clips([_clip("a", 1, 2), _clip("b", 1, 2, size=(6, 10))])
    with pytest.raises(ValueError, match="persons must be None"):
        collate_clips([_clip("a", 1, 2)], persons=0)
    with pytest.raises(ValueError, match="empty"):
        collate_clips([])


def test_shard_dataset_batched_collates_real_clips(reference_run: Path) -> None:
    samples = list(shard_dataset(reference_run, "test"))
    assert len({s["pose"].shape[1] for s in samples}) > 1 and len({s["tracks"].shape[1] for s in samples}) > 1
    batches = list(shard_dataset(reference_run, "test").batched(2))
    assert [b["__key__"] for b in batches] == [[s["__key__"] for s in samples[:2]], [samples[2]["__key__"]]]
    first = batches[0]
    assert first["frames"].shape == (2, *samples[0]["frames"].shape)
    assert torch.equal(first["frames"][1], samples[1]["frames"])
    assert first["pose"].shape[2] == max(s["pose"].shape[1] for s in samples[:2])
    fixed = shard_dataset(reference_run, "test").batched(
        3, collation_fn=functools.partial(collate_clips, persons=1, tracks=16)
    )
    (batch,) = itertools.islice(fixed, 1)
    assert batch["pose"].shape[:3] == (3, 24, 1) and batch["tracks"].shape[:3] == (3, 24, 16)
    with pytest.raises(ValueError, match="batchsize"):
        shard_dataset(reference_run, "test").batched(0)
