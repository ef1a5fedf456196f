"""What a training run tells its user: TensorBoard event files under RUN/logs (loss, validation loss, seconds per
step, sample frames) and a progress line on the console every `train.log_every` steps. Only the chief worker writes."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


class RunLog:
    def __init__(self, run: Path, start_step: int, *, enabled: bool, total: int, every: int = 10) -> None:
        self.enabled = enabled
        self.total = total
        self.every = every
        self.losses: list[float] = []
        self.seconds: list[float] = []
        self.started = time.perf_counter()
        self.writer = None
        if enabled:
            from torch.utils.tensorboard import SummaryWriter

            # purge_step drops the events a killed run logged after its last checkpoint (steps past `start_step`;
            # those of the checkpoint's own step came before it), so a resumed run's curves have one value per step
            self.writer = SummaryWriter(str(run / "logs"), purge_step=start_step + 1 if start_step else None)

    def step(self, metrics: dict[str, Any]) -> None:
        if not self.enabled:
            return
        step = metrics["step"]
        self.losses.append(metrics["loss"])
        self.seconds.append(metrics["seconds"])
        assert self.writer is not None
        self.writer.add_scalar(f"loss/train_{metrics['stage']}", metrics["loss"], step)
        self.writer.add_scalar("time/seconds_per_step", metrics["seconds"], step)
        if "learning_rate" in metrics:
            self.writer.add_scalar("learning_rate", metrics["learning_rate"], step)
        for name in ("peak_rss_mb", "peak_gpu_mb"):
            if name in metrics:
                self.writer.add_scalar(f"memory/{name}", metrics[name], step)
        if step % self.every == 0 or step == self.total:
            mean_loss = sum(self.losses) / len(self.losses)
            rate = sum(self.seconds) / len(self.seconds)
            eta = (self.total - step) * rate
            print(
                f"train: step {step}/{self.total} ({metrics['stage']} stage) loss {mean_loss:.4f} "
                f"{rate:.2f} s/step, {eta / 60:.1f} min left",
                flush=True,
            )
            self.losses.clear()
            self.seconds.clear()

    def validation(self, step: int, stage: str, loss: float) -> None:
        """The validation loss of `stage`'s task (single frames, or clips: the two are not comparable)."""
        if not self.enabled or math.isnan(loss):
            return
        assert self.writer is not None
        self.writer.add_scalar(f"loss/validation_{stage}", loss, step)
        print(f"train: step {step}/{self.total} validation loss ({stage} stage) {loss:.4f}", flush=True)

    def frames(self, step: int, tag: str, frames: np.ndarray) -> None:
        """A strip of uint8 frames [T, H, W, 3] as one image."""
        if not self.enabled:
            return
        assert self.writer is not None
        self.writer.add_image(tag, np.concatenate(list(frames), axis=1), step, dataformats="HWC")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
