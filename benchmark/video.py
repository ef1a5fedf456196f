"""Videos for scoring: mp4 files to uint8 arrays (through `curation.video.reader`), clips and frames chosen by a
stated policy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from curation.video import reader

__all__ = [
    "VideoError",
    "check_not_constant",
    "last_panel",
    "read_video",
    "resize_video",
    "sample_clip",
    "sample_frames",
]


class VideoError(ValueError):
    """A video that cannot be scored; the message names the file."""


def read_video(path: str | Path) -> np.ndarray:
    """All frames of the first video stream as uint8 RGB [T, H, W, 3], rotated for display (the one reader,
    `curation.video.reader`; the clips are short)."""
    try:
        return reader.read_video(path)
    except reader.DecodeError as exc:
        raise VideoError(str(exc)) from exc


def check_not_constant(video: np.ndarray, path: str | Path) -> None:
    """Refuse a video whose every frame is a single flat colour (a failed generation, or a blank reference).

    Such videos make FVD/FID features meaningless and SSIM degenerate; the score command stops on them unless told
    to allow them (then they are scored as they are).
    """
    flat = video.reshape(video.shape[0], -1, 3)
    if np.all(flat.max(axis=1) == flat.min(axis=1)):
        raise VideoError(
            f"{path}: every frame is a single flat colour (a failed generation?); pass --allow-constant-videos to "
            "score it anyway"
        )


def sample_clip(video: np.ndarray, frames: int, policy: str) -> np.ndarray:
    """`frames` frames of `video` [T, H, W, 3] as a clip.

    first: frames 0..frames-1 (StyleGAN-V and most FVD code); uniform: `frames` indices spread evenly from the first
    to the last frame (rounded); center: the `frames` consecutive frames in the middle. Videos shorter than `frames`
    are refused: padding would invent motion the model did not make.
    """
    t = video.shape[0]
    if t < frames:
        raise VideoError(f"video has {t} frames, the protocol needs clips of {frames}")
    if policy == "first":
        return video[:frames]
    if policy == "uniform":
        idx = np.round(np.linspace(0, t - 1, frames)).astype(np.int64)
        return video[idx]
    if policy == "center":
        start = (t - frames) // 2
        return video[start : start + frames]
    raise ValueError(f"unknown clip sampling policy {policy!r}")


def sample_frames(video: np.ndarray, count: int | None) -> np.ndarray:
    """Frames for FID: every frame (count None), or `count` frames spread evenly (rounded indices, may repeat)."""
    if count is None:
        return video
    idx = np.round(np.linspace(0, video.shape[0] - 1, count)).astype(np.int64)
    return video[idx]


def resize_video(video: np.ndarray, size: int) -> np.ndarray:
    """Square bilinear resize with antialiasing (for pixel metrics under a protocol with pixel_resolution)."""
    x = torch.from_numpy(np.ascontiguousarray(video)).permute(0, 3, 1, 2).float()
    y = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return y.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def last_panel(video: np.ndarray, panels: int, padding: int = 2) -> np.ndarray:
    """The rightmost of `panels` videos laid side by side with `padding` pixels around each (torchvision's
    `make_grid`, as the Moore-AnimateAnyone scripts save reference | pose | generated)."""
    if panels < 1:
        raise ValueError(f"panels must be >= 1, got {panels}")
    width = (video.shape[2] - padding) // panels - padding
    if width < 1 or (width + padding) * panels + padding != video.shape[2]:
        raise VideoError(f"a video {video.shape[2]} px wide is not {panels} panels with {padding} px of padding")
    start = padding + (panels - 1) * (width + padding)
    height = video.shape[1] - 2 * padding
    return np.ascontiguousarray(video[:, padding : padding + height, start : start + width])
