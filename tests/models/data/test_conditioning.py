"""Conditioning examples from shard samples: skeletons land on their keypoints after resize and crop, the
reference is a frame of the same clip, windows and gaps as asked, value ranges and shapes, determinism per seed,
batches from a shard pipeline (also across DataLoader workers) and from random access."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from curation.person.pose_render import OPENPOSE_COLOURS
from curation.shards.indexed import indexed_dataset
from curation.shards.reader import shard_dataset, warn_and_skip
from curation.shards.streams import StreamSeeds
from models.data.conditioning import (
    ConditionedClips,
    ConditionStage,
    CoverCrop,
    clip_example,
    collate_examples,
    sample_indices,
    training_batches,
)


def _sample(t: int = 6, h: int = 96, w: int = 160, key: str = "0123456789abcdef-0000") -> dict:
    """A clip whose frame i is filled with value 10 * i, a white 9x9 square centred on (80, 48), and one person
    whose only confident keypoint (the nose) is at that square's centre."""
    frames = np.repeat((10 * np.arange(t, dtype=np.uint8))[:, None, None, None], h * w * 3, 1).reshape(t, h, w, 3)
    frames[:, 44:53, 76:85] = 255
    pose = np.zeros((t, 1, 133, 3), np.float32)
    pose[:, 0, 0] = [80.0, 48.0, 1.0]
    return {"__key__": key, "frames": torch.from_numpy(frames), "pose": torch.from_numpy(pose)}


def test_keypoints_land_on_their_pixels_after_resize_and_crop() -> None:
    sample = _sample()
    crop = CoverCrop((96, 160), (64, 64))
    assert crop.resized == (64, 107) and crop.offset == (0, 21)
    x, y = crop.points(np.array([80.0, 48.0], np.float32))
    assert abs(x - 32.33) < 0.01 and abs(y - 31.83) < 0.01
    example = clip_example(sample, resolution=(64, 64), frames=2, rng=np.random.default_rng(0))
    pose, frames = example["pose_images"][0], example["frames"][0]
    red = torch.tensor(OPENPOSE_COLOURS[0], dtype=torch.float32) / 255.0
    assert torch.allclose(pose[:, 31, 32], red)  # the nose's disc, at the mapped position
    drawn = pose.abs().sum(0) > 0
    ys, xs = torch.nonzero(drawn, as_tuple=True)
    assert abs(xs.float().mean() - 32) <= 1 and abs(ys.float().mean() - 31.5) <= 1 and drawn.sum() < 80
    assert torch.allclose(frames[:, 31, 32], torch.ones(3))  # the white square lies under the skeleton's disc
    white = (frames > 0.99).all(0)
    assert drawn[white].float().mean() > 0.5 and white[drawn].float().mean() > 0.5
    sample["pose"][:, 0, 0, 0] = 5.0  # a keypoint in the part cropped away draws nothing
    empty = clip_example(sample, resolution=(64, 64), frames=2, rng=np.random.default_rng(0))["pose_images"]
    assert not empty.any()


def test_shapes_ranges_reference_and_windows() -> None:
    sample = _sample(t=12)
    clip = sample["frames"].numpy()
    for seed in range(6):
        example = clip_example(sample, resolution=(32, 48), frames=4, stride=2, rng=np.random.default_rng(seed))
        assert example["frames"].shape == example["pose_images"].shape == (4, 3, 32, 48)
        assert example["reference"].shape == (3, 32, 48) and example["frames"].dtype == torch.float32
        assert example["frames"].min() >= -1 and example["frames"].max() <= 1
        assert example["pose_images"].min() >= 0 and example["pose_images"].max() <= 1
        index = example["frame_index"].numpy()
        assert np.array_equal(np.diff(index), [2, 2, 2]) and index[0] >= 0 and index[-1] < 12
        # each frame is its clip frame (value 10 * i away from the square), the reference one of the clip's frames
        corner = ((example["frames"][:, 0, 0, 0] + 1) * 127.5).round()
        assert torch.equal(corner, torch.from_numpy(clip[index, 0, 0, 0]).float())
        value = round(float((example["reference"][0, 0, 0] + 1) * 127.5))
        assert value == 10 * example["reference_index"] and 0 <= example["reference_index"] < 12
    image = [clip_example(sample, resolution=(32, 32), frames=1, rng=np.random.default_rng(s)) for s in range(20)]
    assert all(abs(int(e["frame_index"][0]) - e["reference_index"]) >= 1 for e in image)  # distinct frames
    gaps = [sample_indices(12, 1, np.random.default_rng(s), min_gap=5) for s in range(20)]
    assert all(abs(int(t[0]) - r) >= 5 for t, r in gaps)
    assert sample_indices(1, 1, np.random.default_rng(0)) == (np.array([0]), 0)  # where no other frame exists
    with pytest.raises(ValueError, match="fewer than 4 frames at stride 5"):
        clip_example(sample, resolution=(32, 32), frames=4, stride=5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="resolution must be"):
        clip_example(sample, resolution=(32,), frames=1, rng=np.random.default_rng(0))


def test_examples_are_deterministic_per_seed() -> None:
    sample = _sample(t=12)
    a, b, c = (clip_example(sample, resolution=(32, 32), frames=3, rng=np.random.default_rng(s)) for s in (1, 1, 2))
    for name in ("frames", "pose_images", "reference", "frame_index"):
        assert torch.equal(a[name], b[name])
    assert a["reference_index"] == b["reference_index"]
    assert (a["reference_index"], a["frame_index"].tolist()) != (c["reference_index"], c["frame_index"].tolist())


def _keys_and_indices(batches) -> list:
    return [(b["key"], b["frame_index"].tolist(), b["reference_index"].tolist()) for b in batches]


def test_training_batches_from_shards(reference_run: Path) -> None:
    dataset = shard_dataset(reference_run, "train", resampled=True, shuffle=4, seed=1)
    batches = training_batches(dataset, resolution=(32, 48), frames=8, batch_size=2, stride=2)
    first = list(itertools.islice(batches, 3))
    batch = first[0]
    assert batch["frames"].shape == batch["pose_images"].shape == (2, 8, 3, 32, 48)
    assert batch["reference"].shape == (2, 3, 32, 48) and len(batch["key"]) == 2
    assert batch["pose_images"].amax() > 0.5  # the curated pose draws skeletons
    assert _keys_and_indices(itertools.islice(batches, 3)) == _keys_and_indices(first)  # reproducible
    loader = torch.utils.data.DataLoader(batches, num_workers=2, batch_size=None)
    from_workers = list(itertools.islice(loader, 4))
    assert _keys_and_indices(from_workers[0::2]) == _keys_and_indices(first[:2])  # worker 0 = this process's stream
    assert _keys_and_indices(from_workers[1::2]) != _keys_and_indices(first[:2])
    dataset.set_epoch(1)
    assert _keys_and_indices(itertools.islice(batches, 3)) != _keys_and_indices(first)
    # the reference is a frame of the batch's own clip
    clips = {s["__key__"]: s for s in shard_dataset(reference_run, "train")}
    for b in range(2):
        clip = clips[batch["key"][b]]
        frame = clip["frames"][batch["reference_index"][b]].numpy()
        expected = CoverCrop(frame.shape[:2], (32, 48)).frames(frame[None])[0]
        assert torch.allclose(batch["reference"][b], torch.from_numpy(expected).permute(2, 0, 1).float() / 127.5 - 1)


def test_map_style_examples_from_random_access(reference_run: Path) -> None:
    clips = ConditionedClips(indexed_dataset(reference_run, "train"), resolution=(32, 32), frames=1, seed=4)
    loader = torch.utils.data.DataLoader(clips, batch_size=2, collate_fn=collate_examples, num_workers=2)
    batches = list(loader)
    assert [len(b["key"]) for b in batches] == [2, 2, 1] and batches[0]["frames"].shape == (2, 1, 3, 32, 32)
    again = [collate_examples([clips[i]]) for i in range(len(clips))]
    flat = [(k, f, r) for keys, fs, rs in _keys_and_indices(batches) for k, f, r in zip(keys, fs, rs, strict=True)]
    assert flat == [(b["key"][0], b["frame_index"][0].tolist(), int(b["reference_index"][0])) for b in again]
    clips.set_epoch(1)
    assert [clips[i]["reference_index"] for i in range(len(clips))] != [r for _, _, r in flat]


def test_the_stage_hands_bad_clips_to_its_handler() -> None:
    short, good = _sample(t=2, key="0123456789abcdef-0001"), _sample(t=12)
    stage = ConditionStage(StreamSeeds(seed=0), resolution=(16, 16), frames=4)
    with pytest.raises(ValueError, match="0123456789abcdef-0001: 2 frames"):
        list(stage.run([short, good]))
    skipping = ConditionStage(StreamSeeds(seed=0), resolution=(16, 16), frames=4, handler=warn_and_skip)
    assert [e["key"] for e in skipping.run([short, good])] == [good["__key__"]]
