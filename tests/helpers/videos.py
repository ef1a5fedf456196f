"""Small deterministic videos for tests."""

from __future__ import annotations

import struct
from pathlib import Path

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
