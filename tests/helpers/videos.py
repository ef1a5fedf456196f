"""Small deterministic videos for tests."""

from __future__ import annotations

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
