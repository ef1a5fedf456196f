"""Streams of the shard reader: every DataLoader worker and node rank draws its own samples, reproducibly per
(seed, epoch, rank, worker); without resampling, nodes and workers divide the shards exactly."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from curation.shards.reader import shard_dataset, shard_urls
from curation.shards.streams import StreamSeeds


def _keys(samples) -> list[tuple[str, str]]:
    return [(s["__key__"], Path(s["__url__"]).name) for s in samples]


def _loader_streams(dataset, per_worker: int) -> tuple[list, list]:
    """The samples of each of two DataLoader workers (the loader takes them from its workers in turn)."""
    loader = torch.utils.data.DataLoader(dataset, num_workers=2, batch_size=None)
    drawn = _keys(itertools.islice(loader, 2 * per_worker))
    return drawn[0::2], drawn[1::2]


def test_two_workers_resampled_draw_distinct_reproducible_streams(reference_run: Path) -> None:
    shards = {Path(url).name for url in shard_urls(reference_run, "train")}
    dataset = shard_dataset(reference_run, "train", shuffle=4, resampled=True, seed=7)
    first, second = _loader_streams(dataset, 10)
    assert first != second  # each worker its own stream, not the same samples twice
    assert {url for _, url in first + second} == shards  # together they read every shard
    # worker 0 of a loader is the stream (seed, epoch, rank 0, worker 0): the same as reading in this process
    assert first == _keys(itertools.islice(dataset, 10))
    assert _loader_streams(dataset, 10) == (first, second)  # the same seed and epoch: the same order
    dataset.set_epoch(1)
    other = _loader_streams(dataset, 10)
    assert other[0] != first and other[1] != second
    assert (
        _loader_streams(shard_dataset(reference_run, "train", shuffle=4, resampled=True, seed=7, epoch=1), 10) == other
    )
    assert _loader_streams(shard_dataset(reference_run, "train", shuffle=4, resampled=True, seed=8), 10) != (
        first,
        second,
    )


def test_two_simulated_ranks_resampled_differ_and_cover(reference_run: Path) -> None:
    shards = {Path(url).name for url in shard_urls(reference_run, "train")}

    def rank(r: int, epoch: int = 0) -> list:
        dataset = shard_dataset(reference_run, "train", resampled=True, seed=3, epoch=epoch, rank=r, world_size=2)
        return _keys(itertools.islice(dataset, 10))

    zero, one = rank(0), rank(1)
    assert zero != one and {url for _, url in zero + one} == shards
    assert rank(0) == zero and rank(1, epoch=2) != one


def test_ranks_and_workers_divide_the_shards_once_per_epoch(reference_run: Path) -> None:
    everything = sorted(_keys(shard_dataset(reference_run, "train")))
    orders = []
    for epoch in (0, 1):
        per_rank = [
            _keys(shard_dataset(reference_run, "train", shuffle=3, seed=5, epoch=epoch, rank=r, world_size=2))
            for r in (0, 1)
        ]
        assert per_rank[0] and per_rank[1]
        assert sorted(per_rank[0] + per_rank[1]) == everything  # a partition: each sample once over the ranks
        orders.append(per_rank)
    again = [_keys(shard_dataset(reference_run, "train", shuffle=3, seed=5, rank=r, world_size=2)) for r in (0, 1)]
    assert again == orders[0] and orders[1] != orders[0]
    loader = torch.utils.data.DataLoader(
        shard_dataset(reference_run, "train", shuffle=3, seed=5), num_workers=2, batch_size=None
    )
    assert sorted(_keys(loader)) == everything


def test_stream_seeds_refuse_bad_arguments() -> None:
    with pytest.raises(ValueError, match="rank and world_size together"):
        StreamSeeds(rank=0)
    with pytest.raises(ValueError, match=r"rank must be in \[0, world_size\)"):
        StreamSeeds(rank=2, world_size=2)
    with pytest.raises(ValueError, match="epoch must be an integer >= 0"):
        StreamSeeds().set_epoch(-1)
    with pytest.raises(ValueError, match="seed must be"):
        shard_dataset(["x.tar"], seed=-3)
    seeds = StreamSeeds(seed=1)
    a, b = seeds.numpy_random("x").integers(0, 2**62), seeds.numpy_random("y").integers(0, 2**62)
    assert a != b and a == StreamSeeds(seed=1).numpy_random("x").integers(0, 2**62)
