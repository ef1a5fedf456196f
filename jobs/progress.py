"""The curate job's progress: a rich bar on a terminal; elsewhere (a pipe, a cluster's job log) a plain log line at
a steady interval, whatever the pace of the sources, with sources done, clips, failures so far and the rate."""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

logger = logging.getLogger(__name__)


class JobProgress:
    """`update(summary)` with the job's live counters (`sources_done`, `clips_this_run`, `failed_this_run`).

    `mode`: "bar" (rich, on a terminal), "lines" (a log line every `interval` seconds) or "off"."""

    def __init__(self, total: int, console: Console, *, mode: str, interval: float = 30.0) -> None:
        if mode not in ("bar", "lines", "off"):
            raise ValueError(f"progress mode must be bar, lines or off, got {mode!r}")
        if not interval > 0:
            raise ValueError(f"progress interval must be positive, got {interval}")
        self.total, self.console, self.mode, self.interval = total, console, mode, interval
        self.sources = self.clips = self.failed = 0
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bar: Progress | None = None

    def line(self) -> str:
        seconds = time.monotonic() - self.started
        rate = 60.0 * self.clips / seconds if seconds > 0 else 0.0
        return (
            f"curate progress: {self.sources}/{self.total} sources, {self.clips} clips, {self.failed} failed so far, "
            f"{rate:.1f} clips/min, {seconds:.0f} s"
        )

    def update(self, summary: Any) -> None:
        self.sources, self.clips, self.failed = summary.sources_done, summary.clips_this_run, summary.failed_this_run
        if self._bar is not None:
            self._bar.update(self._task, completed=self.sources, clips=self.clips, failed=self.failed)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval):
            logger.info(self.line())

    def __enter__(self) -> JobProgress:
        self.started = time.monotonic()
        if self.mode == "bar":
            self._bar = Progress(
                TextColumn("[bold]curate[/] sources"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[clips]} clips, {task.fields[failed]} failed"),
                TimeElapsedColumn(),
                console=self.console,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("sources", total=self.total, clips=0, failed=0)
        elif self.mode == "lines":
            logger.info(self.line())
            self._thread = threading.Thread(target=self._beat, name="curate-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            logger.info(self.line())
        if self._bar is not None:
            self._bar.__exit__(kind, error, trace)
