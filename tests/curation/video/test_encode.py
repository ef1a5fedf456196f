from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from curation.video.encode import fps_fraction, write_mp4
from curation.video.reader import read_video


def test_round_trip_is_close_and_counts_frames(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (8, 12, 3)).astype(np.uint8)
    frames = [np.kron(base, np.ones((8, 8, 1), np.uint8)) for _ in range(5)]  # 64x96, smooth blocks
    assert write_mp4(tmp_path / "a.mp4", frames, 25) == 5
    decoded = read_video(tmp_path / "a.mp4")
    assert decoded.shape == (5, 64, 96, 3)
    assert np.abs(decoded.astype(int) - frames[0]).mean() < 6


def test_odd_size_empty_input_and_mismatched_frames_fail_cleanly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"odd\.mp4.*even width and height"):
        write_mp4(tmp_path / "odd.mp4", [np.zeros((64, 63, 3), np.uint8)], 24)
    with pytest.raises(ValueError, match=r"none\.mp4.*no frames"):
        write_mp4(tmp_path / "none.mp4", [], 24)
    with pytest.raises(ValueError, match=r"mixed\.mp4: frame 1 is 32x32"):
        write_mp4(tmp_path / "mixed.mp4", [np.zeros((64, 64, 3), np.uint8), np.zeros((32, 32, 3), np.uint8)], 24)
    with pytest.raises(ValueError, match="uint8"):
        write_mp4(tmp_path / "float.mp4", [np.zeros((64, 64, 3), np.float32)], 24)
    assert list(tmp_path.iterdir()) == []  # nothing half-written is left behind


def test_fps_fraction() -> None:
    assert fps_fraction(29.97) == fps_fraction(30000 / 1001) and fps_fraction(29.97).denominator == 1001
    assert fps_fraction(24) == 24
    with pytest.raises(ValueError, match="positive"):
        fps_fraction(-1)
