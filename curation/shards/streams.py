"""Which stream a reader is, and the random generators it draws from: one stream per (node rank, DataLoader worker).

A training run reads shards in many processes at once: `world_size` nodes (torch.distributed ranks), each with
several DataLoader workers. Every stream seeds its generators from (seed, epoch, rank, worker, purpose), so streams
differ from one another, the same (seed, epoch) gives the same order on a re-run, and another epoch another order.
`purpose` keeps the draws of separate stages (shard choice, sample shuffle, a model's conditioning) independent.
The generators come from numpy's `SeedSequence`, which mixes its inputs well: neighbouring ranks and workers get
unrelated streams, not shifted copies of one.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Position:
    rank: int
    world_size: int
    worker: int
    num_workers: int


def _distributed() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


@dataclass
class StreamSeeds:
    """The seed and epoch of a dataset, and its rank when told (else torch.distributed's, else a single node).

    Mutable on purpose: `set_epoch` changes it in the main process before a DataLoader starts its workers, which
    copy it (with `persistent_workers=True` they keep the copy of the first epoch: do not combine the two).
    """

    seed: int = 0
    epoch: int = 0
    rank: int | None = None
    world_size: int | None = None

    def __post_init__(self) -> None:
        check_nonnegative("seed", self.seed)
        check_nonnegative("epoch", self.epoch)
        if (self.rank is None) != (self.world_size is None):
            raise ValueError("give rank and world_size together (or neither, to use torch.distributed's)")
        if self.world_size is not None and not 0 <= self.rank < self.world_size:  # type: ignore[operator]
            raise ValueError(f"rank must be in [0, world_size), got rank {self.rank} of {self.world_size}")

    def set_epoch(self, epoch: int) -> None:
        check_nonnegative("epoch", epoch)
        self.epoch = epoch

    def position(self) -> Position:
        """This process's stream: the node rank (as told, else torch.distributed's) and the DataLoader worker."""
        rank, world_size = (self.rank, self.world_size) if self.world_size is not None else _distributed()
        info = torch.utils.data.get_worker_info()
        worker, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        return Position(rank, world_size, worker, num_workers)  # type: ignore[arg-type]

    def sequence(self, purpose: str, *, shared: bool = False) -> np.random.SeedSequence:
        """The seed sequence of this stream for `purpose`; `shared`: the same in every stream (only seed and epoch),
        for a choice every stream must agree on, such as the shard order that nodes and workers then divide."""
        tag = zlib.crc32(purpose.encode())  # a stable number: Python's str hash changes from process to process
        if shared:
            return np.random.SeedSequence(self.seed, spawn_key=(self.epoch, tag))
        where = self.position()
        return np.random.SeedSequence(self.seed, spawn_key=(self.epoch, tag, where.rank, where.worker, 1))

    def python_random(self, purpose: str, *, shared: bool = False) -> random.Random:
        return random.Random(int(self.sequence(purpose, shared=shared).generate_state(2, np.uint64)[0]))

    def numpy_random(self, purpose: str, *, shared: bool = False) -> np.random.Generator:
        return np.random.default_rng(self.sequence(purpose, shared=shared))


def check_nonnegative(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
