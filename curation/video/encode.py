"""Writing H.264 clips with PyAV (reading is `curation.video.reader`)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np


def fps_fraction(fps: float) -> Fraction:
    """A frame rate as an exact fraction (29.97 -> 30000/1001)."""
    if not np.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, got {fps}")
    ntsc = round(fps * 1.001)
    if abs(fps - ntsc / 1.001) < 0.005 and abs(fps - round(fps)) > 0.005:
        return Fraction(ntsc * 1000, 1001)
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
    a truncated clip behind. With `threads=1` the same frames give the same bytes, provided width and height are
    multiples of 4 (x264 is not reproducible when a chroma plane has an odd size). Returns the frame count.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    count = 0
    try:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=fps_fraction(fps))
            stream.pix_fmt = "yuv420p"
            stream.codec_context.time_base = 1 / stream.codec_context.framerate
            # Reproducible output: x264's macroblock-tree rate control (mbtree) gave different bytes and pixels
            # for the same frames from run to run here; without it, and without a lookahead thread, it does not.
            stream.options = {"crf": str(crf), "preset": preset, "x264-params": "sync-lookahead=0:mbtree=0"}
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
                    raise ValueError(
                        f"{path}: frame {count} is {frame.shape[1]}x{frame.shape[0]}, "
                        f"expected {stream.width}x{stream.height}"
                    )
                encoded = _yuv420_frame(frame)
                encoded.pts = count
                encoded.time_base = stream.codec_context.time_base
                container.mux(stream.encode(encoded))
                count += 1
            if count == 0:
                raise ValueError(f"{path}: no frames to write")
            container.mux(stream.encode(None))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _yuv420_frame(rgb: np.ndarray) -> av.VideoFrame:
    """An I420 frame (BT.601, limited range) over a buffer of our own, zero-padded past its end.

    SIMD code may read a little past the end of a frame; in a buffer that PyAV allocates that is uninitialised
    memory. Wrapping a buffer whose tail is zeros keeps whatever is read there the same on every run.
    """
    height, width = rgb.shape[:2]
    size = height * width * 3 // 2
    buffer = np.zeros(size + 64 * width, np.uint8)
    frame_view = buffer[:size].reshape(height * 3 // 2, width)
    cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420, dst=frame_view)
    # The view keeps `buffer` alive (through .base) for as long as the frame holds the view.
    return av.VideoFrame.from_numpy_buffer(frame_view, format="yuv420p")
