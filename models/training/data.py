"""The training loop's data: batches of the train split for a stage and a data-stream epoch, and fixed clips of the
test split for the validation loss and the sample videos."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from curation.shards.reader import shard_dataset, shard_urls
from models.data.background import BackgroundInputs
from models.data.conditioning import training_batches
from models.training.config import StageConfig, TrainConfig

log = logging.getLogger(__name__)


class ShardBatches:
    def __init__(
        self,
        shards: Path,
        train: TrainConfig,
        resolution: tuple[int, int],
        video_frames: int,
        background: BackgroundInputs | None = None,
    ) -> None:
        self.shards = shards
        self.background = background  # what the model reads of the shard's tracks (models.registry)
        self.train = train
        self.resolution = resolution
        self.video_frames = video_frames
        self._validation: dict[str, list[dict[str, Any]]] = {}
        if not shard_urls(shards, "train"):
            raise FileNotFoundError(f"{shards}: no train shards")

    def frames(self, stage: StageConfig) -> int:
        return 1 if stage.name == "image" else (stage.frames or self.video_frames)

    def train_batches(self, stage: StageConfig, epoch: int, rank: int, world_size: int) -> Iterator[dict[str, Any]]:
        """An endless stream of this rank's batches for one data epoch (resampled shards, seeded per worker)."""
        dataset = shard_dataset(
            self.shards,
            "train",
            shuffle=self.train.shuffle,
            resampled=True,
            seed=self.train.seed,
            epoch=epoch,
            rank=rank,
            world_size=world_size,
        )
        batches = training_batches(
            dataset, self.resolution, self.frames(stage), stage.batch_size, stride=stage.frame_stride,
            background=self.background,
        )  # fmt: skip
        if self.train.loader_workers == 0:
            return iter(batches)
        loader = torch.utils.data.DataLoader(batches, batch_size=None, num_workers=self.train.loader_workers)
        return iter(loader)

    def validation_batches(self, stage: StageConfig) -> list[dict[str, Any]]:
        """The first `train.validation_clips` clips of the test split, one per batch, the same at every call."""
        if stage.name not in self._validation:
            if not shard_urls(self.shards, "test"):
                log.warning("%s: no test shards, so no validation loss", self.shards)
                self._validation[stage.name] = []
            else:
                dataset = shard_dataset(self.shards, "test", seed=self.train.seed, rank=0, world_size=1)
                batches = training_batches(
                    dataset, self.resolution, self.frames(stage), 1, stride=stage.frame_stride,
                    background=self.background,
                )  # fmt: skip
                taken = []
                for batch in batches:
                    taken.append(batch)
                    if len(taken) == self.train.validation_clips:
                        break
                self._validation[stage.name] = taken
        return self._validation[stage.name]

    @functools.cached_property
    def first_test_sample(self) -> dict[str, Any] | None:
        """The test split's first clip, decoded once (the sample video of every validation); None without one."""
        found = shard_urls(self.shards, "test")
        return next(iter(shard_dataset(found, rank=0, world_size=1)), None) if found else None
