"""Writing H.264 clips and reading frames back, with PyAV."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def fps_fraction(fps: float) -> Fraction:
    """A frame rate as an exact fraction (29.97 -> 30000/1001)."""
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, got {fps}")
    return Fraction(fps).limit_denominator(1001)


def write_mp4(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float,
    *,
    crf: int = 18,
    preset: str = "veryfast",
    threads: int = 1,
) -> int:
    """Encode RGB uint8 frames [H, W, 3] into an H.264 mp4 (constant frame rate, yuv420p, no audio).

    The file appears under its name only once complete (written beside it, then renamed), so a crash never leaves
    a truncated clip behind. With `threads=1` the output is bit-exact for the same frames. Returns the frame count.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    count = 0
    try:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=fps_fraction(fps))
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": str(crf), "preset": preset}
            stream.codec_context.thread_count = threads
            for frame in frames:
                if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
                    raise ValueError(f"{path}: frames must be uint8 [H, W, 3], got {frame.dtype} {frame.shape}")
                if count == 0:
                    height, width = frame.shape[:2]
                    if width % 2 or height % 2:
                        raise ValueError(f"{path}: H.264 (yuv420p) needs even width and height, got {width}x{height}")
                    stream.width, stream.height = width, height
                elif frame.shape[:2] != (stream.height, stream.width):
                    raise ValueError(f"{path}: frame {count} is {frame.shape[1]}x{frame.shape[0]}, "
                                     f"expected {stream.width}x{stream.height}")
                container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
                count += 1
            if count == 0:
                raise ValueError(f"{path}: no frames to write")
            container.mux(stream.encode(None))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def iter_frames(path: str | os.PathLike) -> Iterator[np.ndarray]:
    """Decode a video's frames one at a time as RGB uint8 [H, W, 3]."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            yield frame.to_ndarray(format="rgb24")


def read_frames(path: str | os.PathLike) -> np.ndarray:
    """All frames of a short clip as [T, H, W, 3] (for tests and small clips; long videos stream instead)."""
    return np.stack(list(iter_frames(path)))
