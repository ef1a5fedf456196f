"""Background point tracks with CoTracker3, loaded through `torch.hub`.

The code comes from the upstream repository (`facebookresearch/co-tracker`, CC-BY-NC: non-commercial) as torch.hub
caches it, or from a local clone (`source="local"`); backdrop never lets torch.hub download it, and the checkpoint is
read from the weights directory with `weights_only=True`. Queries are a regular grid on frame 0 restricted to the
background (outside the foreground mask), either our own grid (`grid_queries`, which keeps the grid index for
ground-truth matching) or the predictor's grid over `segm_mask` = the inverse foreground mask.

Frames are downscaled so their long side is at most `max_side` before tracking, and positions are mapped back to
clip pixels. Long clips: the offline model runs in overlapping windows, each point re-queried in the next window at
its last visible position in the overlap; the online model consumes the clip in steps of half its window.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from curation.motion.tracks import Tracks, grid_queries
from curation.weights import WeightsNotFoundError, load_strict, resolve_weights

UPSTREAM = "facebookresearch/co-tracker"
HOW_TO_GET = (
    f"CoTracker is not on the package registry. Clone https://github.com/{UPSTREAM} (CC-BY-NC-4.0) and set "
    "cotracker.repo to the clone with cotracker.source: local, or run torch.hub.load('"
    + UPSTREAM
    + "', 'cotracker3_online') once on a machine with a network so that torch.hub caches it; then "
    "`backdrop weights download cotracker3-offline cotracker3-online` for the checkpoints."
)


class CoTrackerUnavailable(RuntimeError):
    """The CoTracker code or checkpoint is absent; the message says how to get it."""


@dataclass(frozen=True)
class CoTrackerSettings:
    repo: str = UPSTREAM  # torch.hub repository name, or a local directory with hubconf.py when source is "local"
    source: str = "github"  # "github": torch.hub's cache of `repo` (never downloaded here); "local": a clone
    mode: str = "offline"  # "offline" (cotracker3_offline, windows) or "online" (cotracker3_online, streamed)
    checkpoint: str | None = None  # None: scaled_{mode}.pth in the weights directory; "random": no weights (tests)
    weights_dir: str | None = None
    device: str = "auto"
    grid_step: int = 16  # spacing of the frame-0 query grid, clip pixels (when segm_grid_size is 0)
    segm_grid_size: int = 0  # > 0: the predictor's own grid_size x grid_size grid over segm_mask instead
    max_side: int | None = 512  # frames are downscaled to this long side before tracking (None: as they are)
    window: int = 60  # offline: frames per window
    overlap: int = 8  # offline: frames shared by consecutive windows
    visibility_threshold: float = 0.5  # applied when the predictor returns visibility scores, not booleans

    def __post_init__(self) -> None:
        if self.mode not in ("offline", "online"):
            raise ValueError(f"cotracker.mode must be 'offline' or 'online', got {self.mode!r}")
        if self.source not in ("github", "local"):
            raise ValueError(f"cotracker.source must be 'github' or 'local', got {self.source!r}")
        if not 0 <= self.overlap < self.window:
            raise ValueError(f"cotracker.overlap must lie in [0, window), got {self.overlap} (window {self.window})")
        if self.grid_step < 2 or self.segm_grid_size < 0:
            raise ValueError("cotracker.grid_step must be at least 2 and segm_grid_size non-negative")


def hub_directory(settings: CoTrackerSettings) -> Path:
    """The directory holding CoTracker's hubconf.py: the local clone, or torch.hub's cache of the repository."""
    import torch

    if settings.source == "local":
        path = Path(settings.repo).expanduser()
    else:
        owner, name = settings.repo.split(":")[0].split("/")
        ref = settings.repo.split(":")[1] if ":" in settings.repo else "main"
        path = Path(torch.hub.get_dir()) / f"{owner}_{name}_{ref}"
    if not (path / "hubconf.py").is_file():
        raise CoTrackerUnavailable(f"no CoTracker code at {path} (source={settings.source!r}). {HOW_TO_GET}")
    return path


def load_predictor(settings: CoTrackerSettings) -> Any:
    """The hub entry `cotracker3_{mode}` built without weights, then the local checkpoint loaded strictly."""
    import torch

    directory = hub_directory(settings)
    entry = f"cotracker3_{settings.mode}"
    # source="local" on the resolved directory: torch.hub neither validates nor fetches anything.
    predictor = torch.hub.load(os.fspath(directory), entry, source="local", pretrained=False)
    if settings.checkpoint != "random":
        try:
            path = resolve_weights(
                f"cotracker3-{settings.mode}",
                settings.checkpoint,
                weights_dir=settings.weights_dir,
                override="cotracker.checkpoint (a file) or cotracker.weights_dir",
            )
        except WeightsNotFoundError as error:
            raise CoTrackerUnavailable(f"CoTracker3 {error}") from None
        load_strict(predictor.model, path)
    device = settings.device if settings.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    return predictor.to(device).eval()


def _scale(size: tuple[int, int], max_side: int | None) -> tuple[int, int]:
    width, height = size
    if max_side is None or max(width, height) <= max_side:
        return width, height
    ratio = max_side / max(width, height)
    return max(2, round(width * ratio)), max(2, round(height * ratio))


def _to_model(points: np.ndarray, size: tuple[int, int], model_size: tuple[int, int]) -> np.ndarray:
    """Clip pixels to the resized frames' pixels (pixel centres at +0.5, as cv2.resize samples them)."""
    ratio = np.array(model_size, np.float64) / np.array(size, np.float64)
    return ((points + 0.5) * ratio - 0.5).astype(np.float32)


def _to_clip(points: np.ndarray, size: tuple[int, int], model_size: tuple[int, int]) -> np.ndarray:
    ratio = np.array(size, np.float64) / np.array(model_size, np.float64)
    return ((points + 0.5) * ratio - 0.5).astype(np.float32)


class CoTrackerBackend:
    """Tracks of background grid points through a clip's RGB frames; `track(rgb, fgmasks)` gives `Tracks`."""

    name = "cotracker3"

    def __init__(self, settings: CoTrackerSettings | None = None, predictor: Any = None) -> None:
        self.settings = settings or CoTrackerSettings()
        self.predictor = predictor if predictor is not None else load_predictor(self.settings)

    @property
    def version(self) -> str:
        return f"cotracker3-{self.settings.mode} via torch.hub ({self.settings.source})"

    def _device(self) -> Any:
        import torch

        parameter = next(iter(self.predictor.parameters()), None)
        return parameter.device if parameter is not None else torch.device("cpu")

    def _video(self, rgb: np.ndarray, model_size: tuple[int, int]) -> Any:
        import torch

        if (rgb.shape[2], rgb.shape[1]) != model_size:
            rgb = np.stack([cv2.resize(f, model_size, interpolation=cv2.INTER_AREA) for f in rgb])
        video = torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2)[None].float()
        return video.to(self._device())

    def _visible(self, visibility: Any) -> np.ndarray:
        values = visibility.detach().cpu().numpy()[0]
        return values if values.dtype == bool else values > self.settings.visibility_threshold

    def track(self, rgb: np.ndarray, fgmasks: np.ndarray | None) -> Tracks:
        import torch

        s = self.settings
        height, width = rgb.shape[1:3]
        size = (width, height)
        model_size = _scale(size, s.max_side)
        video = self._video(rgb, model_size)
        background = None if fgmasks is None else ~fgmasks[0].astype(bool)
        with torch.no_grad():
            if s.segm_grid_size > 0:
                mask = np.ones((height, width), bool) if background is None else background
                mask = cv2.resize(mask.astype(np.uint8), model_size, interpolation=cv2.INTER_NEAREST)
                segm = torch.from_numpy(mask).float()[None, None].to(video.device)
                positions, visible = self._run(video, None, segm)
                positions = _to_clip(positions, size, model_size)
                queries, index = positions[0].copy(), np.full(positions.shape[1], -1)
            else:
                queries, index = grid_queries(size, s.grid_step, None if fgmasks is None else fgmasks[0])
                model_queries = _to_model(queries, size, model_size)
                positions, visible = self._run(video, model_queries, None)
                positions = _to_clip(positions, size, model_size)
        return Tracks(queries, index, positions, visible)

    def _run(self, video: Any, queries: np.ndarray | None, segm: Any) -> tuple[np.ndarray, np.ndarray]:
        if self.settings.mode == "online":
            return self._online(video, queries, segm)
        return self._offline(video, queries, segm)

    def _call(self, video: Any, queries: np.ndarray | None, segm: Any) -> tuple[np.ndarray, np.ndarray]:
        import torch

        if queries is not None:
            query = torch.from_numpy(queries).float()[None].to(video.device)
            tracks, visibility = self.predictor(video, queries=query)
        else:
            tracks, visibility = self.predictor(video, grid_size=self.settings.segm_grid_size, segm_mask=segm)
        return tracks.detach().cpu().numpy()[0].astype(np.float32), self._visible(visibility)

    def _offline(self, video: Any, queries: np.ndarray | None, segm: Any) -> tuple[np.ndarray, np.ndarray]:
        s = self.settings
        frames = video.shape[1]
        end = min(s.window, frames)
        if queries is not None:
            queries = np.concatenate([np.zeros((len(queries), 1), np.float32), queries], axis=1)
        positions, visible = self._call(video[:, :end], queries, segm)
        while end < frames:
            start = end - s.overlap if s.overlap else end - 1
            stop = min(start + s.window, frames)
            # Each point is re-queried in the new window where it was last seen in the overlap (or, never seen
            # there, at its predicted position on the window's first frame).
            shared = visible[start:end]
            seen = shared.any(axis=0)
            last = np.where(seen, shared.shape[0] - 1 - np.argmax(shared[::-1], axis=0), 0)
            anchor = np.take_along_axis(positions[start:end], last[None, :, None], axis=0)[0]
            window_queries = np.concatenate([last[:, None].astype(np.float32), anchor], axis=1)
            more, more_visible = self._call(video[:, start:stop], window_queries, None)
            positions = np.concatenate([positions, more[end - start :]])
            visible = np.concatenate([visible, more_visible[end - start :]])
            end = stop
        return positions, visible

    def _online(self, video: Any, queries: np.ndarray | None, segm: Any) -> tuple[np.ndarray, np.ndarray]:
        import torch

        frames = video.shape[1]
        step = int(self.predictor.step)
        # Pad with the last frame to a whole number of steps (the online model consumes 2 * step frames at a time),
        # then drop the padding from the result.
        padded = max(2 * step, -(-frames // step) * step)
        if padded > frames:
            video = torch.cat([video, video[:, -1:].expand(-1, padded - frames, -1, -1, -1)], dim=1)
        kwargs: dict[str, Any] = {"is_first_step": True}
        if queries is not None:
            query = np.concatenate([np.zeros((len(queries), 1), np.float32), queries], axis=1)
            kwargs["queries"] = torch.from_numpy(query).float()[None].to(video.device)
        else:
            kwargs.update(grid_size=self.settings.segm_grid_size, segm_mask=segm)
        self.predictor(video_chunk=video[:, : 2 * step], **kwargs)
        tracks = visibility = None
        for start in range(0, padded - step, step):
            tracks, visibility = self.predictor(video_chunk=video[:, start : start + 2 * step])
        if tracks is None or visibility is None:  # cannot happen: padded >= 2 * step, so the loop runs
            raise RuntimeError("the online predictor returned no tracks")
        positions = tracks.detach().cpu().numpy()[0].astype(np.float32)[:frames]
        return positions, self._visible(visibility)[:frames]
