"""Small deterministic videos for tests."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import av
import numpy as np


def moving_square_video(frames: int, size: tuple[int, int], *, seed: int, speed: int = 2) -> np.ndarray:
    """A textured background with a bright square moving across it: cheap, deterministic, not constant."""
    rng = np.random.default_rng(seed)
    h, w = size
    background = rng.integers(0, 200, (h, w, 3), dtype=np.uint8)
    out = np.repeat(background[None], frames, axis=0)
    side = max(h // 4, 2)
    for t in range(frames):
        x = (t * speed + seed) % max(w - side, 1)
        out[t, h // 3 : h // 3 + side, x : x + side] = 255
    return out


def rotate_display_matrix(path: Path) -> None:
    """Set the track header's display matrix to a 90-degree clockwise rotation (what phones write)."""
    data = bytearray(path.read_bytes())
    identity = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    quarter = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
    at = data.find(identity, data.find(b"tkhd"))
    if at < 0:
        raise ValueError(f"{path}: no identity display matrix in its track header")
    data[at : at + 36] = quarter
    path.write_bytes(bytes(data))


def panning_frames(count: int, size: tuple[int, int] = (96, 128), speed: int = 3, seed: int = 0) -> np.ndarray:
    """A camera panning over a smooth random texture at `speed` pixels per frame."""
    height, width = size
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 256, (height // 8, (width + speed * count) // 8 + 1, 3), np.uint8)
    texture = np.kron(texture, np.ones((8, 8, 1), np.uint8))
    return np.stack([texture[:height, speed * t : speed * t + width] for t in range(count)])


def encode(frames: np.ndarray, codec: str, fmt: str, fps: int = 24) -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for rgb in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode(None))
    return buffer.getvalue()
